/* newslens views: the shared core (progressive enhancement over a static report).
 *
 * Each view is a div element with data-view=NAME that holds its static fallback and its data,
 * a JSON script element with data-role=data. A view's code registers an init
 * function; the core parses the data and calls it once per root. Corpus text reaches the
 * page only through textContent and setAttribute (never parsed as HTML), so no markup in the
 * data can become live. The same file runs in a report (inlined once, allowed by a CSP hash)
 * and in JupyterLab outputs (inlined in each output; idempotent).
 */
(function () {
  "use strict";
  // The element holding this script: in JupyterLab an output's node, which may not be in the
  // document yet when its scripts run, so views are looked for there as well as in the document.
  var host = document.currentScript && document.currentScript.parentNode;
  if (window.newslens && window.newslens.version === 1) { window.newslens.host = host; window.newslens.scan(); return; }
  var registry = {};
  var NL = { version: 1, host: host };

  var SVG_NS = "http://www.w3.org/2000/svg";
  function append(node, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) { child.forEach(function (c) { append(node, c); }); return; }
    node.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  function setAttrs(node, attrs) {
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value === null || value === undefined || value === false) return;
      if (/^on/i.test(key)) throw new Error("newslens: event attributes are not allowed: " + key);
      if (key === "text") { node.textContent = String(value); return; }
      node.setAttribute(key, value === true ? "" : String(value));
    });
  }
  /** An HTML element: attrs set with setAttribute; children are nodes, strings (text) or arrays. */
  NL.el = function (tag, attrs) {
    var node = document.createElement(tag);
    setAttrs(node, attrs);
    for (var i = 2; i < arguments.length; i++) append(node, arguments[i]);
    return node;
  };
  /** An SVG element, the same way. */
  NL.svg = function (tag, attrs) {
    var node = document.createElementNS(SVG_NS, tag);
    setAttrs(node, attrs);
    for (var i = 2; i < arguments.length; i++) append(node, arguments[i]);
    return node;
  };
  NL.clear = function (node) { while (node.firstChild) node.removeChild(node.firstChild); return node; };
  /** A stable colour per topic id: hues spaced by the golden angle, so neighbours differ. */
  NL.colour = function (id) {
    var hue = Math.round((Number(id) * 137.508) % 360);
    return "hsl(" + hue + ", 62%, 42%)";
  };
  /** A number as text: digits after the point, thousands separated (en-GB style, fixed). */
  NL.fmt = function (value, digits) {
    if (value === null || value === undefined || value !== value) return "";
    var d = digits === undefined ? 0 : digits;
    var fixed = Math.abs(value).toFixed(d).split(".");
    var whole = fixed[0].replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return (value < 0 ? "\u2212" : "") + whole + (fixed.length > 1 ? "." + fixed[1] : "");
  };
  NL.pct = function (value, digits) { return NL.fmt(100 * value, digits === undefined ? 1 : digits) + "%"; };
  /** Horizontal bars as plain elements: rows of {label, value, colour?}; max sets the scale. */
  NL.bars = function (rows, opts) {
    opts = opts || {};
    var max = opts.max || Math.max.apply(null, rows.map(function (r) { return r.value; }).concat([1e-12]));
    var format = opts.format || function (v) { return NL.fmt(v, 2); };
    return NL.el("div", { "class": "nl-bars", role: "list" }, rows.map(function (row) {
      var bar = NL.el("span", { "class": "nl-bar" });
      bar.style.width = Math.max(0, Math.min(100, 100 * row.value / max)).toFixed(1) + "%";
      if (row.colour) bar.style.background = row.colour;
      return NL.el("div", { "class": "nl-bar-row", role: "listitem" },
        NL.el("span", { "class": "nl-bar-label", title: row.label }, row.label),
        NL.el("span", { "class": "nl-bar-track" }, bar),
        NL.el("span", { "class": "nl-bar-value" }, format(row.value)));
    }));
  };
  /** A CSV document (RFC 4180) of a header and rows, as a data: URI. */
  NL.csvHref = function (header, rows) {
    function cell(v) {
      var s = v === null || v === undefined ? "" : String(v);
      return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
    }
    var lines = [header.map(cell).join(",")].concat(rows.map(function (r) { return r.map(cell).join(","); }));
    return "data:text/csv;charset=utf-8," + encodeURIComponent("\uFEFF" + lines.join("\r\n") + "\r\n");
  };
  /** Register a view: init(root, data) runs once for each element with data-view=name. */
  NL.register = function (name, init) { registry[name] = init; NL.scan(); };
  NL.scan = function () {
    var places = [document];
    if (NL.host && NL.host !== document && !document.contains(NL.host)) places.push(NL.host);
    Object.keys(registry).forEach(function (name) {
      var roots = [];
      places.forEach(function (place) {
        Array.prototype.push.apply(roots, place.querySelectorAll('[data-view="' + name + '"]:not([data-ready])'));
      });
      roots.forEach(function (root) {
        root.setAttribute("data-ready", "");
        var source = root.querySelector('script[type="application/json"][data-role="data"]');
        try {
          var data = source ? JSON.parse(source.textContent) : {};
          registry[name](root, data);
          root.classList.add("nl-live");
        } catch (error) {
          root.setAttribute("data-error", String(error && error.message || error));
          if (window.console) console.warn("newslens view " + name + ": " + error);
        }
      });
    });
  };
  window.newslens = NL;
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", NL.scan);
})();
