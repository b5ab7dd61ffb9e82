/* newslens topic explorer: intertopic map, terms by relevance (a λ slider), top documents,
 * prevalence by group and over time. Data (newslens.analysis.topic_explorer_data.explorer_data):
 * {compact, lambda, unit, units, group, groups, periods, period, notes: {groups, time}, map_size,
 *  size_legend: [[share, r]], terms: [display], pw: [p(w)], uses: [count], min_uses,
 *  docs: [{id, title, group, date, snippet?}],
 *  topics: [{id, label, name, prevalence, mixed, x, y, cx, cy, r, terms: [[term, p(w|t)]], docs: [[doc, weight]],
 *            by_group?, over_time?}]}, topics in order of prevalence.
 * Colour carries one meaning: a mixed topic is grey, every other topic has the same colour.
 * Contract: circles [data-topic], [data-role=topic-terms], [data-role=topic-docs],
 * input[type=range][data-role=lambda].
 */
(function (NL) {
  "use strict";

  var TOPIC = "hsl(212, 62%, 42%)", MIXED = "#8c959f";
  function relevance(pwt, pw, lambda) {
    return lambda * Math.log(pwt) + (1 - lambda) * (Math.log(pwt) - Math.log(pw));
  }
  function tint(topic) { return topic && topic.mixed ? MIXED : TOPIC; }
  /** A probability as a percentage with three significant digits, so that values differ where bars do. */
  function pctSig(value) {
    var pct = 100 * value, digits = pct > 0 ? Math.min(4, Math.max(0, 2 - Math.floor(Math.log10(pct) + 1e-9))) : 1;
    return NL.fmt(pct, digits) + "%";
  }

  NL.register("topic-explorer", function (root, data) {
    var topics = data.topics || [];
    if (!topics.length) return;
    var compact = !!data.compact;
    var shownTerms = compact ? 10 : 15;
    var byId = {};
    topics.forEach(function (t) { byId[t.id] = t; });
    var selected = topics[0].id;  // the most prevalent
    var lambda = typeof data.lambda === "number" ? data.lambda : 0.6;

    // ---- the map
    var SIZE = data.map_size || 360;  // the viewBox; circles (cx, cy, r) come laid out by map_layout
    var circles = {};
    var svg = NL.svg("svg", { "class": "nl-te-map", viewBox: "0 0 " + SIZE + " " + SIZE, role: "group",
                              "aria-label": "Intertopic map: select a topic" });
    svg.appendChild(NL.svg("rect", { x: 0.5, y: 0.5, width: SIZE - 1, height: SIZE - 1, fill: "none",
                                     stroke: "#d0d7de" }));
    // Circles (small ones on top), then every id in a layer above them, so that no circle hides a label.
    var circleLayer = NL.svg("g", { "class": "nl-te-circles" });
    var labelLayer = NL.svg("g", { "class": "nl-te-labels", "aria-hidden": "true" });
    var labels = {};
    var drawOrder = topics.slice().sort(function (a, b) { return b.r - a.r || a.id - b.id; });
    drawOrder.forEach(function (t) {
      var g = NL.svg("g", { "class": "nl-te-topic", "data-topic": t.id, tabindex: 0, role: "button",
                            "aria-pressed": "false",
                            "aria-label": t.name + ", " + NL.pct(t.prevalence) + " of the topic weight" },
        NL.svg("title", null, t.name + " (" + NL.pct(t.prevalence) + ")"),
        NL.svg("circle", { cx: t.cx, cy: t.cy, r: t.r, fill: tint(t) }));
      g.addEventListener("click", function () { select(t.id); });
      g.addEventListener("keydown", function (event) { onKey(event, t.id); });
      circles[t.id] = g;
      circleLayer.appendChild(g);
      labels[t.id] = NL.svg("text", { x: t.cx, y: t.cy, "text-anchor": "middle", "dominant-baseline": "central" },
                            String(t.id));
      labelLayer.appendChild(labels[t.id]);
    });
    svg.appendChild(circleLayer);
    svg.appendChild(labelLayer);
    var anyMixed = topics.some(function (t) { return t.mixed; });
    var mapNote = NL.el("p", { "class": "note nl-te-mapnote", "data-role": "map-note" },
      "Distance between circles \u2248 how different their terms are (the two dimensions of classical scaling of " +
      "the Jensen\u2013Shannon distances between the topics\u2019 term distributions); the axes themselves have no " +
      "meaning. Circles that would cover another\u2019s centre are moved apart a little. " +
      (anyMixed ? "Grey circles are mixed topics (no single subject); the others are blue."
                : "All circles share one colour: colour means nothing here."));
    var sizes = sizeLegend(data.size_legend || []);
    function onKey(event, id) {
      var at = topics.indexOf(byId[id]);
      if (event.key === "Enter" || event.key === " " || event.key === "Spacebar") {
        event.preventDefault();
        select(id);
      } else if (event.key === "ArrowRight" || event.key === "ArrowDown" ||
                 event.key === "ArrowLeft" || event.key === "ArrowUp") {
        event.preventDefault();  // move through the topics in order of prevalence
        var step = event.key === "ArrowRight" || event.key === "ArrowDown" ? 1 : -1;
        var next = topics[(at + step + topics.length) % topics.length];
        circles[next.id].focus();
        select(next.id);
      }
    }

    /** Reference circles, nested on a common baseline: circle area = share of the corpus. */
    function sizeLegend(rows) {
      if (!rows.length) return null;
      var big = Math.max.apply(null, rows.map(function (row) { return row[1]; })), base = 2 * big + 6;
      var legend = NL.svg("svg", { "class": "nl-te-sizes", viewBox: "0 0 " + SIZE + " " + (base + 4), role: "img",
                                   "data-role": "size-legend",
                                   "aria-label": "Circle area is the topic\u2019s share of the corpus" });
      var x = big + 4;
      rows.slice().reverse().forEach(function (row) {
        legend.appendChild(NL.svg("circle", { cx: x, cy: base - row[1], r: row[1] }));
        legend.appendChild(NL.svg("line", { x1: x, y1: base - 2 * row[1], x2: 2 * big + 14, y2: base - 2 * row[1],
                                            stroke: "#8c959f", "stroke-dasharray": "2 2" }));
        legend.appendChild(NL.svg("text", { x: 2 * big + 18, y: base - 2 * row[1] + 4 }, NL.pct(row[0], row[0] < 0.01 ? 1 : 0)));
      });
      legend.appendChild(NL.svg("text", { x: 2 * big + 70, y: base - big + 4 },
                                "circle area = share of the corpus"));
      return legend;
    }

    // ---- controls
    var picker = NL.el("select", { "class": "nl-te-select", "aria-label": "Topic" },
      topics.map(function (t) { return NL.el("option", { value: t.id }, t.name); }));
    picker.addEventListener("change", function () { select(Number(picker.value)); });
    var slider = NL.el("input", { type: "range", min: 0, max: 1, step: 0.1, value: lambda,
                                  "data-role": "lambda", "aria-label": "Relevance weight lambda" });
    var sliderValue = NL.el("output", { "class": "nl-te-lambda" }, NL.fmt(lambda, 1));
    slider.addEventListener("input", function () {
      lambda = Number(slider.value);
      sliderValue.textContent = NL.fmt(lambda, 1);
      drawTerms();
    });
    var toolbar = NL.el("div", { "class": "nl-toolbar" },
      NL.el("label", null, "Topic ", picker),
      NL.el("label", { title: "1: rank by frequency in the topic; 0: by how specific the term is to the topic" },
            "Relevance \u03bb ", slider, " ", sliderValue));

    // ---- panels
    var heading = NL.el("h4", { "class": "nl-te-heading", "aria-live": "polite" });
    var terms = NL.el("div", { "class": "nl-te-terms", "data-role": "topic-terms" });
    var legendKey = NL.el("span", { "class": "nl-te-key nl-te-key-topic" });
    var legend = NL.el("p", { "class": "note nl-te-legend" },
      legendKey, " in this topic, p(w|t)  ",
      NL.el("span", { "class": "nl-te-key nl-te-key-corpus" }), " in the whole corpus, p(w); ranked by relevance ",
      "\u03bb\u00b7log p(w|t) + (1\u2212\u03bb)\u00b7log(p(w|t)/p(w)). ",
      NL.el("span", { "data-role": "min-uses" }, data.min_uses > 1 ? "Only terms used at least " + NL.fmt(data.min_uses) +
        " times in the corpus are listed, so that rare words do not top the list at low \u03bb." : ""));
    var docs = NL.el("ol", { "class": "nl-te-docs", "data-role": "topic-docs" });
    var groups = NL.el("div", { "class": "nl-te-groups" });
    var time = NL.el("div", { "class": "nl-te-time" });
    var side = NL.el("div", { "class": "nl-te-side" }, heading, terms, legend);
    var grid = NL.el("div", { "class": "nl-te-grid" }, NL.el("div", { "class": "nl-te-mapbox" }, svg, sizes, mapNote), side);
    var docsTitle = NL.el("h4", null, "Top " + data.units);
    var parts = [toolbar, grid, NL.el("div", { "class": "nl-te-docsbox" }, docsTitle, docs)];
    if (!compact) {
      parts.push(NL.el("div", { "class": "nl-te-charts" },
        NL.el("div", null, NL.el("h4", null, "By " + data.group), groups),
        NL.el("div", null, NL.el("h4", null, "Over time"), time)));
    }

    function drawTerms() {
      var t = byId[selected], uses = data.uses || [], fewest = data.min_uses || 0;
      var ranked = t.terms.filter(function (pair) { return !uses.length || uses[pair[0]] >= fewest; }).map(function (pair) {
        return { term: data.terms[pair[0]], pwt: pair[1], pw: data.pw[pair[0]], uses: uses[pair[0]],
                 score: relevance(pair[1], data.pw[pair[0]], lambda) };
      }).sort(function (a, b) { return b.score - a.score || (a.term < b.term ? -1 : a.term > b.term ? 1 : 0); })
        .slice(0, shownTerms);
      var max = Math.max.apply(null, ranked.map(function (r) { return Math.max(r.pwt, r.pw); }).concat([1e-12]));
      NL.clear(terms);
      terms.appendChild(NL.el("ol", { "class": "nl-te-termlist" }, ranked.map(function (r) {
        var corpus = NL.el("span", { "class": "nl-te-bar nl-te-bar-corpus" });
        var mine = NL.el("span", { "class": "nl-te-bar nl-te-bar-topic" });
        corpus.style.width = (100 * r.pw / max).toFixed(1) + "%";
        mine.style.width = (100 * r.pwt / max).toFixed(1) + "%";
        mine.style.background = tint(t);
        return NL.el("li", { "class": "nl-te-term", "data-term": r.term, "data-uses": r.uses,
                             title: r.term + ": p(w|t) " + pctSig(r.pwt) + ", p(w) " + pctSig(r.pw) +
                               (r.uses === undefined ? "" : "; used " + NL.fmt(r.uses) + " times in the corpus") },
          NL.el("span", { "class": "nl-te-term-label" }, r.term),
          NL.el("span", { "class": "nl-te-track" }, mine, corpus),
          NL.el("span", { "class": "nl-bar-value" }, pctSig(r.pwt)));
      })));
    }
    function drawDocs() {
      var t = byId[selected];
      NL.clear(docs);
      if (!t.docs.length) docs.appendChild(NL.el("li", { "class": "note" }, "No " + data.unit + " has weight on this topic."));
      t.docs.forEach(function (pair) {
        var d = data.docs[pair[0]];
        var meta = [d.group ? NL.el("bdi", null, d.group) : null, d.date, "weight " + NL.fmt(pair[1], 2)]
          .filter(function (x) { return x; });
        docs.appendChild(NL.el("li", { "data-doc": d.id },
          // a unit (sentence, paragraph) has no title of its own: its words, not in bold
          NL.el("span", { "class": "nl-te-doc-title" + (d.snippet ? "" : " nl-te-doc-words") }, d.title),
          NL.el("span", { "class": "nl-te-doc-meta" }, meta.map(function (part, i) {
            return i ? [" \u00b7 ", part] : part;
          })),
          d.snippet ? NL.el("span", { "class": "nl-te-doc-snippet" }, d.snippet) : null));
      });
    }
    function drawGroups() {
      var t = byId[selected];
      NL.clear(groups);
      if (!t.by_group || !data.groups.length) {
        groups.appendChild(NL.el("p", { "class": "note" }, data.notes && data.notes.groups || "No groups."));
        return;
      }
      groups.appendChild(NL.bars(data.groups.map(function (g, i) {
        return { label: g, value: t.by_group[i] || 0, colour: tint(t) };
      }), { format: function (v) { return NL.fmt(v, 3); } }));
      groups.appendChild(NL.el("p", { "class": "note" }, "Mean weight of the topic in each " + data.group + "'s " + data.units + "."));
    }
    function drawTime() {
      var t = byId[selected];
      NL.clear(time);
      if (!t.over_time || !data.periods.length) {
        time.appendChild(NL.el("p", { "class": "note" }, data.notes && data.notes.time || "No dates."));
        return;
      }
      var w = 480, h = 150, left = 40, right = 10, topPad = 10, bottom = 24;
      var values = t.over_time.map(function (v) { return v === null ? 0 : v; });
      var max = Math.max.apply(null, values.concat([1e-12]));
      var n = values.length;
      var x = function (i) { return left + (n > 1 ? i * (w - left - right) / (n - 1) : 0); };
      var y = function (v) { return topPad + (h - topPad - bottom) * (1 - v / max); };
      var points = values.map(function (v, i) { return x(i).toFixed(1) + "," + y(v).toFixed(1); }).join(" ");
      var chart = NL.svg("svg", { "class": "nl-te-line", viewBox: "0 0 " + w + " " + h, role: "img",
                                  "aria-label": t.name + ": mean weight per " + data.period },
        NL.svg("line", { x1: left, y1: y(0), x2: w - right, y2: y(0), stroke: "#d0d7de" }),
        NL.svg("polyline", { points: points, fill: "none", stroke: tint(t), "stroke-width": 2 }),
        NL.svg("text", { x: left - 4, y: y(max) + 4, "text-anchor": "end" }, NL.fmt(max, 2)),
        NL.svg("text", { x: left - 4, y: y(0) + 4, "text-anchor": "end" }, "0"),
        NL.svg("text", { x: x(0), y: h - 6, "text-anchor": "start" }, data.periods[0]),
        NL.svg("text", { x: x(n - 1), y: h - 6, "text-anchor": "end" }, data.periods[n - 1]));
      values.forEach(function (v, i) {
        chart.appendChild(NL.svg("circle", { cx: x(i).toFixed(1), cy: y(v).toFixed(1), r: 2.5, fill: tint(t) },
          NL.svg("title", null, data.periods[i] + ": " + NL.fmt(v, 3))));
      });
      time.appendChild(chart);
      time.appendChild(NL.el("p", { "class": "note" }, "Mean weight of the topic per " + data.period + "."));
    }

    function select(id) {
      if (!byId[id]) return;
      selected = id;
      var t = byId[id];
      Object.keys(circles).forEach(function (key) {
        circles[key].setAttribute("aria-pressed", String(Number(key) === id));
        labels[key].setAttribute("class", Number(key) === id ? "nl-te-label-selected" : "");
      });
      legendKey.style.background = tint(t);
      picker.value = String(id);
      NL.clear(heading);
      heading.appendChild(NL.el("bdi", null, t.name));
      heading.appendChild(document.createTextNode(" \u00b7 " + NL.pct(t.prevalence) + " of the topic weight"));
      heading.style.borderColor = tint(t);
      drawTerms();
      drawDocs();
      if (!compact) { drawGroups(); drawTime(); }
    }

    Array.prototype.forEach.call(root.querySelectorAll(".nl-static"), function (node) { node.remove(); });
    root.insertBefore(NL.el("div", { "class": "nl-te" + (compact ? " nl-te-compact" : "") }, parts), root.firstChild);
    select(selected);
  });
})(window.newslens);
