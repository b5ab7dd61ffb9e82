/* newslens keyness explorer: any group against the rest, or two groups against each other.
 * Data (newslens.analysis.keyness_data): {groups, tokens, documents, all_tokens, group_count,
 *   too_small: [[name, documents, tokens]], min_documents, min_tokens, terms, display,
 *   counts: [group][term], doc_counts: [group][term], intervals: [group]{term: [low, high] × 100},
 *   forms: {surface word: term}, term_totals, vocabulary, min_freq, shown, window, lines_per_term,
 *   kwic_cover: {named, named_of, frequent, frequent_of}, docs: [[title, date, group]],
 *   kwic: {term: [[doc, left, keyword ("" for the display form), right]]}, words}.
 * A search finds a term by its name, its display form or a surface form the run's tokenizer counts
 * as it ("sanctions" → sanction), and offers the terms and phrases with a word that starts with
 * it ("belt" → Belt and Road); a search that finds nothing says so (data-role=no-match) and
 * clears the panel.
 * G², the log ratio and the log-odds z are newslens.measures's: the two term cells of the 2×2
 * table, the log ratio smoothed by a pseudo-rate shared by both sides (its sign is the raw rates'),
 * rows kept when a + b >= min_freq.
 */
(function (NL) {
  "use strict";
  var SMOOTHING = 0.5, PRIOR_TOKENS = 500, PER = 10000, SUGGESTIONS = 12, RELATED = 8;
  var serial = 0;  // datalist ids, in page order (no random ids)

  function xlogy(x, y) { return x === 0 ? 0 : x * Math.log(y); }
  /** Rayson & Garside's G² over the term cells (newslens.measures.g2), unsigned. */
  function g2(a, b, c, d) {
    var total = c + d, share = total > 0 ? (a + b) / total : 0;
    var value = 2 * ((xlogy(a, a) - xlogy(a, c * share)) + (xlogy(b, b) - xlogy(b, d * share)));
    return Math.max(value, 0);
  }
  /** Hardie's log ratio, a pseudo-rate added to both rates (newslens.measures.log_ratio). */
  function logRatio(a, b, c, d) {
    var k = 2 * SMOOTHING / (c + d);
    return Math.log2(a / c + k) - Math.log2(b / d + k);
  }
  /** Monroe et al.'s log-odds with an informative Dirichlet prior, as a z-score (newslens.measures.log_odds_z). */
  function logOddsZ(a, b, c, d) {
    if (a + b === 0) return 0;
    var prior = PRIOR_TOKENS * (a + b) / (c + d), x = a + prior, y = b + prior;
    var delta = (Math.log(x) - Math.log(c + PRIOR_TOKENS - x)) - (Math.log(y) - Math.log(d + PRIOR_TOKENS - y));
    return delta / Math.sqrt(1 / x + 1 / y);
  }
  NL.keyness = { g2: g2, logRatio: logRatio, logOddsZ: logOddsZ };

  function signed(value, digits) { return (value > 0 ? "+" : "") + NL.fmt(value, digits); }
  /** A group's name inside a sentence: isolated (an RLO stays inside it) and cut short when long. */
  function nameNode(name) { return NL.el("bdi", { "class": "nl-name", title: name }, name); }

  NL.register("keyness-explorer", function (root, data) {
    var groups = data.groups, terms = data.terms, counts = data.counts, words = data.words;
    var shown = data.display.map(function (d, i) { return d || terms[i]; });
    var lookup = Object.create(null);  // a term such as "constructor" must not find a built-in
    terms.forEach(function (t, i) { lookup[t.toLowerCase()] = i; lookup[shown[i].toLowerCase()] = i; });
    var forms = Object.create(null);   // surface words the tokenizer counts as a carried term
    Object.keys(data.forms || {}).forEach(function (form) { forms[form] = data.forms[form]; });
    // Each term's words (display form, lowercase), for "belt" → Belt and Road; most used first.
    var wordsOf = shown.map(function (d) { return d.toLowerCase().split(/[\s_\-]+/); });
    var byUse = terms.map(function (_, i) { return i; }).sort(function (x, y) {
      return data.term_totals[y] - data.term_totals[x] || (terms[x] < terms[y] ? -1 : terms[x] > terms[y] ? 1 : 0);
    });
    function linesOf(t) {
      return Object.prototype.hasOwnProperty.call(data.kwic, terms[t]) ? data.kwic[terms[t]] : null;
    }
    var kwicCover = data.kwic_cover || { named: 0, named_of: 0, frequent: 0, frequent_of: 0 };
    var covered = "keywords in context, up to " + NL.fmt(data.lines_per_term) + " lines each, are stored for " +
      (kwicCover.named < kwicCover.named_of ? NL.fmt(kwicCover.named) + " of the " + NL.fmt(kwicCover.named_of) +
         " terms the report names" :
       (kwicCover.frequent ? "the " + NL.fmt(kwicCover.frequent) + " most frequent terms and " : "") +
         "every term the report names");
    var listId = "nl-keyness-terms-" + (++serial);

    var pick = NL.el("select", { "data-role": "group", "aria-label": "Group A" }, groups.map(function (g, i) {
      return NL.el("option", { value: i }, g);
    }));
    var largest = data.tokens.indexOf(Math.max.apply(null, data.tokens));
    pick.value = String(largest);  // the first view: the largest group against all the others
    var versus = NL.el("select", { "data-role": "versus", "aria-label": "Group B" },
      NL.el("option", { value: "rest" }, "all the others"),
      groups.map(function (g, i) { return NL.el("option", { value: i }, g); }));
    var search = NL.el("input", { type: "search", "data-role": "term", list: listId, autocomplete: "off",
                                  "aria-label": "Search a term", placeholder: "Search a term" });
    var suggestions = NL.el("datalist", { id: listId });
    var summary = NL.el("p", { "class": "note nl-keyness-summary", "aria-live": "polite" });
    var list = NL.el("div", { "class": "nl-keyness-lists", "data-role": "keyness-terms" });
    var panel = NL.el("div", { "class": "nl-keyness-term", "aria-live": "polite" });

    function comparison() {
      var a = Number(pick.value), b = versus.value === "rest" ? null : Number(versus.value);
      return { a: a, b: b, c: data.tokens[a], d: b === null ? data.all_tokens - data.tokens[a] : data.tokens[b],
               nameA: groups[a], nameB: b === null ? "all the others" : groups[b] };
    }
    function cells(cmp, t) {
      var a = counts[cmp.a][t], b = cmp.b === null ? data.term_totals[t] - a : counts[cmp.b][t];
      var held = cmp.b === null && data.intervals[cmp.a][String(t)];
      return { a: a, b: b, g2: g2(a, b, cmp.c, cmp.d), ratio: logRatio(a, b, cmp.c, cmp.d),
               z: logOddsZ(a, b, cmp.c, cmp.d), share: data.doc_counts[cmp.a][t] / data.documents[cmp.a],
               interval: held ? [held[0] / 100, held[1] / 100] : null };
    }
    function ranked(cmp) {
      var over = [], under = [], floor = Math.max(data.min_freq, 1);
      for (var t = 0; t < terms.length; t++) {
        var row = cells(cmp, t);
        if (row.a + row.b < floor) continue;
        row.t = t;
        (row.ratio > 0 ? over : under).push(row);
      }
      function order(x, y) { return y.g2 - x.g2 || (terms[x.t] < terms[y.t] ? -1 : terms[x.t] > terms[y.t] ? 1 : 0); }
      return { over: over.sort(order), under: under.sort(order) };
    }
    function termButton(t) {
      var button = NL.el("button", { type: "button", "class": "nl-term", "data-term": terms[t] }, shown[t]);
      button.addEventListener("click", function () { search.value = shown[t]; showTerm(); });
      return button;
    }
    function keynessTable(caption, rows, cmp) {
      var head = ["term", "log ratio", "95% interval", "z", "G\u00b2", ["share of ", nameNode(cmp.nameA), "\u2019s " + words.units],
                  ["per 10k", nameNode(cmp.nameA)], ["per 10k", nameNode(cmp.nameB)]];
      return NL.el("table", { "class": "nl-keyness-table" }, NL.el("caption", null, caption),
        NL.el("thead", null, NL.el("tr", null, head.map(function (h, i) {
          return NL.el("th", { scope: "col", "class": i ? "num" : null }, h);
        }))),
        NL.el("tbody", null, rows.length ? rows.slice(0, data.shown).map(function (row) {
          return NL.el("tr", null, NL.el("td", null, termButton(row.t)),
            NL.el("td", { "class": "num" }, signed(row.ratio, 2)),
            NL.el("td", { "class": "num" }, row.interval ? signed(row.interval[0], 2) + " to " + signed(row.interval[1], 2) : "\u2013"),
            NL.el("td", { "class": "num" }, signed(row.z, 1)),
            NL.el("td", { "class": "num" }, NL.fmt(row.g2, 1)),
            NL.el("td", { "class": "num" }, NL.fmt(100 * row.share, 0) + "%"),
            NL.el("td", { "class": "num", title: NL.fmt(row.a) + " times" }, NL.fmt(PER * row.a / cmp.c, 2)),
            NL.el("td", { "class": "num", title: NL.fmt(row.b) + " times" }, NL.fmt(PER * row.b / cmp.d, 2)));
        }) : NL.el("tr", null, NL.el("td", { colspan: 8, "class": "note" }, "No term passes the minimum frequency."))));
    }
    function drawList() {
      var cmp = comparison();
      NL.clear(list);
      if (cmp.b === cmp.a) {
        NL.clear(summary).appendChild(NL.el("span", null, "Pick two different " + words.groups +
                                            " (or \u201call the others\u201d)."));
        return cmp;
      }
      var rows = ranked(cmp);
      NL.clear(summary).appendChild(NL.el("span", null, nameNode(cmp.nameA), ": " +
        NL.fmt(data.documents[cmp.a]) + " " + words.units + ", " + NL.fmt(cmp.c) + " tokens; ",
        nameNode(cmp.nameB), ": " + (cmp.b === null ? "" : NL.fmt(data.documents[cmp.b]) + " " + words.units + ", ") +
        NL.fmt(cmp.d) + " tokens. " + NL.fmt(rows.over.length + rows.under.length) +
        " terms occur at least " + NL.fmt(Math.max(data.min_freq, 1)) +
        " times in the two; ranked by G\u00b2. G\u00b2 counts tokens as independent draws, so it overstates a term " +
        "that a few " + words.units + " repeat: cite a difference when its 95% interval over " + words.units +
        " (against all the others) excludes 0 and enough of the " + words.group + "\u2019s " + words.units + " use it."));
      list.appendChild(keynessTable(["Over-used by ", nameNode(cmp.nameA)], rows.over, cmp));
      list.appendChild(keynessTable(["Under-used by ", nameNode(cmp.nameA), " (over-used by ", nameNode(cmp.nameB), ")"],
                                    rows.under, cmp));
      return cmp;
    }
    /** Terms, most used first, one of whose words starts with the query's (every word of it, in order). */
    function related(query, limit, except) {
      var parts = query.replace(/_/g, " ").split(/[\s\-]+/).filter(function (w) { return w; }), found = [];
      if (!parts.length) return found;
      for (var k = 0; k < byUse.length && found.length < limit; k++) {
        var t = byUse[k], own = wordsOf[t];
        if (t === except) continue;
        for (var start = 0; start + parts.length <= own.length; start++) {
          var all = true;
          for (var p = 0; p < parts.length && all; p++) {
            all = p < parts.length - 1 ? own[start + p] === parts[p] : own[start + p].indexOf(parts[p]) === 0;
          }
          if (all) { found.push(t); break; }
        }
      }
      return found;
    }
    function suggest() {
      var query = search.value.trim().toLowerCase();
      NL.clear(suggestions);
      if (!query) return;
      related(query, SUGGESTIONS).forEach(function (t) { suggestions.appendChild(NL.el("option", { value: shown[t] })); });
    }
    function kwicTable(t, cmp) {
      var lines = linesOf(t).slice();
      var first = function (line) { var g = data.docs[line[0]][2]; return g === cmp.a ? 0 : g === cmp.b ? 1 : 2; };
      lines.sort(function (x, y) { return first(x) - first(y); });  // stable: the stored order within
      return NL.el("table", { "class": "kwic nl-keyness-kwic", "data-role": "kwic" },
        NL.el("caption", null, "Keywords in context (" + NL.fmt(lines.length) + " stored lines, up to " +
              NL.fmt(data.window) + " words each side)"),
        NL.el("thead", null, NL.el("tr", null, [words.group, "title", "date", "left", "keyword", "right"].map(function (h) {
          return NL.el("th", { scope: "col" }, h);
        }))),
        NL.el("tbody", null, lines.map(function (line) {
          var doc = data.docs[line[0]];
          return NL.el("tr", null, NL.el("td", { "class": "group" }, nameNode(groups[doc[2]])),
            NL.el("td", { "class": "doc" }, doc[0]), NL.el("td", { "class": "date" }, doc[1] || "\u2013"),
            NL.el("td", { "class": "left" }, line[1]), NL.el("td", { "class": "term" }, line[2] || shown[t]),
            NL.el("td", { "class": "right" }, line[3]));
        })));
    }
    /** The term a query names: a term, its display form, or a surface form of it (then via says which). */
    function findTerm(query) {
      var spaced = query.replace(/\s+/g, " "), keys = [spaced, spaced.replace(/ /g, "_"), spaced.replace(/_/g, " ")];
      for (var f = 0; f < keys.length; f++) if (lookup[keys[f]] !== undefined) return lookup[keys[f]];
      for (f = 0; f < keys.length; f++) if (forms[keys[f]] !== undefined) return forms[keys[f]];
      return undefined;
    }
    function buttons(list) {
      return list.map(function (t, i) { return [i ? ", " : "", termButton(t)]; });
    }
    function noMatch(query) {
      var near = related(query, SUGGESTIONS);
      panel.appendChild(NL.el("div", { "class": "nl-no-match", "data-role": "no-match" },
        NL.el("p", null, "No term matches \u201c" + search.value.trim() + "\u201d."),
        near.length ? NL.el("p", { "class": "note" }, "Terms with a word starting so: ", buttons(near), ".") : null,
        NL.el("p", { "class": "note" }, "The explorer holds " + NL.fmt(terms.length) + " of the run\u2019s " +
          NL.fmt(data.vocabulary) + " terms (the most frequent, and every term the report names), each under its base " +
          "form (lemma); a search finds a term by the other forms the texts write too.")));
    }
    function termStats(t, cmp) {
      var row = cells(cmp, t), rare = row.a + row.b < Math.max(data.min_freq, 1);
      return NL.el("p", null, nameNode(cmp.nameA), " against ", nameNode(cmp.nameB), ": log ratio " +
        signed(row.ratio, 2) + (row.interval ? " (95% interval over " + words.units + " " + signed(row.interval[0], 2) +
        " to " + signed(row.interval[1], 2) + ")" : "") + ", z " + signed(row.z, 1) + ", G\u00b2 " + NL.fmt(row.g2, 1) +
        " (" + NL.fmt(row.a) + " and " + NL.fmt(row.b) + " times; " + NL.fmt(PER * row.a / cmp.c, 2) + " and " +
        NL.fmt(PER * row.b / cmp.d, 2) + " per 10,000 tokens); used by " + NL.fmt(data.doc_counts[cmp.a][t]) +
        " of the " + NL.fmt(data.documents[cmp.a]) + " " + words.units + " of ", nameNode(cmp.nameA),
        rare ? ", below the minimum frequency of the lists." : ".");
    }
    function termBars(t, cmp) {
      return NL.bars(groups.map(function (g, i) {
        return { label: g + " (" + NL.fmt(counts[i][t]) + ")", value: PER * counts[i][t] / data.tokens[i],
                 colour: i === cmp.a ? "var(--accent)" : i === cmp.b ? "#b35900" : "#8c959f" };
      }), { format: function (v) { return NL.fmt(v, 2); } });
    }
    var rendered = null;  // the query the panel shows: leaving the box (change) does not redraw it
    function showTerm(force) {
      var query = search.value.trim().toLowerCase(), t = findTerm(query), cmp = comparison();
      if (force !== true && query === rendered) return;
      rendered = query;
      NL.clear(panel);
      if (!query) return;
      if (t === undefined) { noMatch(query); return; }
      panel.appendChild(NL.el("h4", { "data-term": terms[t] }, shown[t]));
      var asTyped = query.replace(/\s+/g, " ");
      if (asTyped !== shown[t].toLowerCase() && asTyped !== terms[t] && asTyped.replace(/ /g, "_") !== terms[t]) {
        panel.appendChild(NL.el("p", { "class": "note", "data-role": "form" }, "\u201c" + search.value.trim() +
          "\u201d is counted as \u201c" + shown[t] + "\u201d: the run\u2019s terms are base forms (lemmas)."));
      }
      var more = related(asTyped, RELATED, t);
      if (more.length) {
        panel.appendChild(NL.el("p", { "class": "note", "data-role": "related" }, "Also: ", buttons(more), "."));
      }
      if (cmp.a !== cmp.b) panel.appendChild(termStats(t, cmp));
      panel.appendChild(NL.el("p", { "class": "note" }, "Per 10,000 tokens in each " + words.group +
                              " (raw count in brackets):"));
      panel.appendChild(termBars(t, cmp));
      panel.appendChild(linesOf(t) ? NL.el("div", { "class": "nl-scroll" }, kwicTable(t, cmp))
        : NL.el("p", { "class": "note" }, "No keywords in context are stored for \u201c" + shown[t] + "\u201d; " + covered +
                " (as the texts write them: a term also made of other forms may have none)."));
    }

    pick.addEventListener("change", function () { drawList(); showTerm(true); });
    versus.addEventListener("change", function () { drawList(); showTerm(true); });
    search.addEventListener("input", function () { suggest(); showTerm(); });
    search.addEventListener("change", function () { showTerm(); });
    search.addEventListener("keydown", function (event) { if (event.key === "Enter") showTerm(); });

    var cover = (terms.length < data.vocabulary ? "Counts of " + NL.fmt(terms.length) + " of the run\u2019s " +
      NL.fmt(data.vocabulary) + " terms (the most frequent, and every term the report names)"
      : "Counts of all the run\u2019s " + NL.fmt(terms.length) + " terms") +
      "; " + covered + ".";
    var small = data.too_small.length;
    if (data.group_count - small > groups.length) {
      cover += " The " + NL.fmt(groups.length) + " largest of the " + NL.fmt(data.group_count - small) + " " + words.groups +
        " big enough to compare are listed; \u201call the others\u201d still counts every " + words.group + ".";
    }
    if (small) {
      cover += " Too small to compare (fewer than " + NL.fmt(data.min_documents) + " " + words.units + " or " +
        NL.fmt(data.min_tokens) + " tokens), and counted only in \u201call the others\u201d: " +
        data.too_small.slice(0, 10).map(function (s) {
          return s[0] + " (" + NL.fmt(s[1]) + " " + (s[1] === 1 ? words.unit : words.units) + ", " + NL.fmt(s[2]) + " tokens)";
        }).join(", ") + (small > 10 ? " and " + NL.fmt(small - 10) + " more" : "") + ".";
    }
    Array.prototype.forEach.call(root.querySelectorAll(".nl-static"), function (node) { node.remove(); });
    root.insertBefore(NL.el("div", { "class": "nl-keyness" },
      NL.el("div", { "class": "nl-toolbar" },
        NL.el("label", null, "Compare ", pick), NL.el("label", null, " with ", versus),
        NL.el("label", null, "Term ", search), suggestions),
      panel, NL.el("p", { "class": "note" }, cover), summary, list), root.firstChild);  // a search's answer next to its box
    drawList();
  });
})(window.newslens);
