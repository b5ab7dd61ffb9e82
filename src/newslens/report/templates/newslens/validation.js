/* newslens views: validation by hand (word and topic intrusion, Chang et al. 2009).
 *
 * Data: {run, model, coder, unit, minutes, items: [{id, kind, topics, options, intruder, doc_id?}],
 * topics: {id: {label, terms}}, documents: {doc_id: {title, group, date, text}}}. One item shows at
 * a time; clicking an option answers it and moves on to the next unanswered item. Answers stay in
 * the page while it is open (a warning comes before it is closed with answers not downloaded);
 * once every item is answered, a link downloads them as CSV (a data: URI), named and marked with
 * the run, the coder and the model's hash. All text is written with textContent.
 */
(function () {
  "use strict";
  var NL = window.newslens;
  if (!NL || NL.validationRegistered) return;
  NL.validationRegistered = true;
  var el = NL.el;
  var OPTIONS = 6;
  var HEADER = ["run", "coder", "model", "item", "kind", "topic", "doc_id"];
  for (var o = 1; o <= OPTIONS; o++) HEADER.push("option_" + o);
  HEADER.push("intruder", "chosen");

  function safeName(text) {
    return String(text).trim().replace(/[^A-Za-z0-9_-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 40) || "anonymous";
  }

  function init(root, data) {
    var items = data.items || [];
    var answers = {};
    var current = 0;
    var saved = true;
    NL.clear(root);

    var nameInput = el("input", { type: "text", "data-role": "coder", value: data.coder || "", autocomplete: "off",
                                  "aria-label": "Your name or initials" });
    var progressBar = el("progress", { max: items.length, value: 0, "aria-label": "Items answered" });
    var progressText = el("span", { "data-role": "progress" });
    var stage = el("div", { "class": "nl-val-stage" });
    var end = el("div", { "class": "nl-val-end", "data-role": "end", hidden: true });
    var prev = el("button", { type: "button", "data-role": "prev" }, "\u2190 Previous");
    var next = el("button", { type: "button", "data-role": "next" }, "Next \u2192");
    root.appendChild(el("div", { "class": "nl-val-head" },
      el("label", null, "Your name or initials ", nameInput),
      el("div", { "class": "nl-val-progress" }, progressBar, " ", progressText)));
    root.appendChild(stage);
    root.appendChild(el("div", { "class": "nl-val-nav" }, prev, " ", next));
    root.appendChild(end);

    var nodes = items.map(function (item, index) { return renderItem(item, index); });
    nodes.forEach(function (node) { stage.appendChild(node); });

    function topicOption(id) {
      var topic = (data.topics || {})[String(id)] || { label: "Topic " + id, terms: [] };
      return [el("strong", null, topic.label), el("span", { "class": "nl-val-terms" }, topic.terms.join(", "))];
    }

    function renderItem(item, index) {
      var node = el("section", { "class": "nl-val-item", "data-role": "item", "data-kind": item.kind,
                                 "data-item": item.id, hidden: true,
                                 "aria-label": "Item " + (index + 1) + " of " + items.length });
      node.appendChild(el("p", { "class": "nl-val-count" }, "Item " + (index + 1) + " of " + items.length +
        (item.kind === "word" ? " \u00b7 word intrusion" : " \u00b7 topic intrusion")));
      if (item.kind === "word") {
        node.appendChild(el("p", { "class": "nl-val-question" },
          "Five of these words are the top words of one topic. Which word does not belong?"));
      } else {
        var doc = (data.documents || {})[item.doc_id] || {};
        node.appendChild(el("blockquote", { "class": "nl-val-doc" },
          el("p", { "class": "nl-val-title" }, el("strong", null, doc.title || "(no title)")),
          el("p", { "class": "nl-val-meta" }, [doc.group, doc.date].filter(Boolean).join(" \u00b7 ")),
          el("p", { "class": "nl-val-text" }, doc.text || "")));
        node.appendChild(el("p", { "class": "nl-val-question" },
          "Three of these topics are the main topics of this " + (data.unit || "document") +
          ". Which topic does not belong?"));
      }
      var list = el("div", { "class": "nl-val-options " + (item.kind === "word" ? "nl-val-words" : "nl-val-topics"),
                             role: "group" });
      item.options.forEach(function (option) {
        var button = el("button", { type: "button", "data-role": "option", "data-value": String(option),
                                    "aria-pressed": "false" },
                        item.kind === "word" ? String(option) : topicOption(option));
        button.addEventListener("click", function () { answer(index, String(option)); });
        list.appendChild(button);
      });
      node.appendChild(list);
      return node;
    }

    function answered() { return Object.keys(answers).length; }

    function show(index) {
      current = Math.max(0, Math.min(items.length - 1, index));
      nodes.forEach(function (node, i) { node.hidden = i !== current; });
      prev.disabled = current === 0;
      next.disabled = current >= items.length - 1;
      var focus = nodes[current] && nodes[current].querySelector('button[data-role="option"]');
      if (focus && root.contains(document.activeElement)) focus.focus();
    }

    function update() {
      var n = answered();
      progressBar.value = n;
      progressText.textContent = n + " of " + items.length + " answered";
      nodes.forEach(function (node, i) {
        var chosen = answers[items[i].id];
        node.classList.toggle("nl-val-done", chosen !== undefined);
        Array.prototype.forEach.call(node.querySelectorAll('button[data-role="option"]'), function (b) {
          b.setAttribute("aria-pressed", String(b.getAttribute("data-value") === chosen));
        });
      });
      if (n === items.length && items.length) finish(); else { end.hidden = true; NL.clear(end); }
    }

    function answer(index, option) {
      answers[items[index].id] = option;
      saved = false;
      update();
      var after = -1;
      for (var step = 1; step <= items.length; step++) {
        var candidate = (index + step) % items.length;
        if (answers[items[candidate].id] === undefined) { after = candidate; break; }
      }
      if (after >= 0) show(after);
    }

    function rows(coder) {
      return items.map(function (item) {
        var options = item.options.map(String);
        while (options.length < OPTIONS) options.push("");
        return [data.run, coder, data.model, item.id, item.kind, String(item.topics[0]),
                item.doc_id || ""].concat(options, [String(item.intruder), answers[item.id]]);
      });
    }

    function finish() {
      var coder = nameInput.value.trim() || "anonymous";
      var file = "validation-" + safeName(data.run) + "-" + safeName(coder) + "-" + data.model + ".csv";
      var link = el("a", { "data-role": "download", download: file, href: NL.csvHref(HEADER, rows(coder)) },
                    "Download the answers (" + file + ")");
      link.addEventListener("click", function () { saved = true; });
      NL.clear(end);
      end.appendChild(el("p", null, "Every item is answered. Download the answers and give the file to the " +
        "researcher, who places it in the project's validation folder for this run; the reports then score them. " +
        "You can still go back and change an answer: the link always holds the answers shown."));
      end.appendChild(el("p", null, link));
      end.hidden = false;
    }

    nameInput.addEventListener("input", function () { saved = false; if (answered() === items.length) finish(); });
    prev.addEventListener("click", function () { show(current - 1); });
    next.addEventListener("click", function () { show(current + 1); });
    window.addEventListener("beforeunload", function (event) {
      if (saved || !answered()) return undefined;
      event.preventDefault();
      event.returnValue = "";
      return "";
    });
    show(0);
    update();
  }

  NL.register("validation", init);
})();
