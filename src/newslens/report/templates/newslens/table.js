/* newslens table view: search, sort and a CSV download of every row.
 * Data: {caption, columns: [{name, num, cls}], cells: [[text, ...]], values: {col: [number|null]},
 *        file, table_class}. The static table (the first rows) is replaced by the full one.
 */
(function (NL) {
  "use strict";
  var MAX_SHOWN = 1000;  // rows drawn at once; the search narrows the rest, the CSV holds all

  NL.register("table", function (root, data) {
    var columns = data.columns, cells = data.cells, values = data.values || {};
    var order = cells.map(function (_, i) { return i; });
    var sortColumn = null, descending = false, query = "";
    var haystack = cells.map(function (row) { return row.join("\u0001").toLowerCase(); });

    function sortKey(i, c) {
      var numbers = values[c];
      return numbers ? numbers[i] : cells[i][c];
    }
    function compare(a, b) {
      var x = sortKey(a, sortColumn), y = sortKey(b, sortColumn);
      if (x === y) return a - b;
      if (x === null || x === undefined || x === "") return 1;   // empty cells last, either way
      if (y === null || y === undefined || y === "") return -1;
      var sign = descending ? -1 : 1;
      if (typeof x === "number" && typeof y === "number") return sign * (x - y) || a - b;
      return sign * String(x).localeCompare(String(y), "en", { numeric: true }) || a - b;
    }

    var search = NL.el("input", { type: "search", "class": "nl-search", "aria-label": "Search this table",
                                  placeholder: "Search " + NL.fmt(cells.length) + " rows" });
    var count = NL.el("span", { "class": "nl-count", "aria-live": "polite" });
    var header = columns.map(function (c) { return c.name; });
    var csvRows = cells.map(function (row, i) {
      return row.map(function (text, c) { return values[c] ? values[c][i] : text; });
    });
    var download = NL.el("a", { "class": "nl-csv", download: data.file || "table.csv",
                                href: NL.csvHref(header, csvRows) }, "CSV (" + NL.fmt(cells.length) + " rows)");
    var heads = columns.map(function (column, c) {
      var button = NL.el("button", { type: "button", "class": "nl-sort", "data-column": c }, column.name);
      button.addEventListener("click", function () {
        descending = sortColumn === c ? !descending : !!column.num;
        sortColumn = c;
        draw();
      });
      return NL.el("th", { "class": (column.num ? "num " : "") + (column.cls || ""), scope: "col" }, button);
    });
    var body = NL.el("tbody");
    var table = NL.el("table", { "class": data.table_class || null },
      data.caption ? NL.el("caption", null, data.caption) : null,
      NL.el("thead", null, NL.el("tr", null, heads)), body);
    var more = NL.el("p", { "class": "note nl-more" });

    function draw() {
      var shown = order.filter(function (i) { return !query || haystack[i].indexOf(query) !== -1; });
      if (sortColumn !== null) shown.sort(compare);
      heads.forEach(function (th, c) {
        th.setAttribute("aria-sort", c === sortColumn ? (descending ? "descending" : "ascending") : "none");
      });
      NL.clear(body);
      shown.slice(0, MAX_SHOWN).forEach(function (i) {
        body.appendChild(NL.el("tr", null, cells[i].map(function (text, c) {
          var column = columns[c];
          return NL.el("td", { "class": (column.num ? "num " : "") + (column.cls || "") }, text);
        })));
      });
      count.textContent = NL.fmt(shown.length) + " of " + NL.fmt(cells.length) + " rows";
      more.textContent = shown.length > MAX_SHOWN
        ? "The first " + NL.fmt(MAX_SHOWN) + " matching rows are drawn; search to narrow them, or download the CSV."
        : "";
    }
    search.addEventListener("input", function () { query = search.value.trim().toLowerCase(); draw(); });

    Array.prototype.forEach.call(root.querySelectorAll(".nl-static"), function (node) { node.remove(); });
    root.insertBefore(NL.el("div", { "class": "nl-table" },
      NL.el("div", { "class": "nl-toolbar" }, search, count, download),
      NL.el("div", { "class": "nl-scroll" }, table), more), root.firstChild);
    draw();
  });
})(window.newslens);
