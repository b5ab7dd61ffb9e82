"""NMF for a corpus whose TF-IDF matrix does not fit in memory: the streaming path, for scale-out."""

from __future__ import annotations

import numpy as np


def fit_streaming_nmf(stream, engine, k: int, seed: int, *, epochs: int = 3,
                      batch_size: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """Fit NMF block by block; returns (doc_topic, topic_term) arrays.

    scikit-learn's ``MiniBatchNMF.partial_fit`` over the blocks of a
    :class:`newslens.analysis.keywords.TfidfStream` (IDF from the reduction, rows made per part
    on the workers), ``epochs`` passes in document order; then each block's
    doc-topic weights. Only one block and the model are in memory at a time. It
    approximates the batch NMF: ``tests/test_engine.py`` measures how closely (NPMI and
    top-term overlap).
    """
    from sklearn.decomposition import MiniBatchNMF

    model = MiniBatchNMF(n_components=k, init="nndsvda", random_state=seed, batch_size=batch_size)
    for _ in range(epochs):
        for block in stream.blocks(engine):
            for start in range(0, block.shape[0], batch_size):
                model.partial_fit(block[start:start + batch_size])
    doc_topic = np.vstack([model.transform(block) for block in stream.blocks(engine)])
    return doc_topic, model.components_
