/* Printing (and the PDF appendix) shows every detail: each closed <details>
   (the sphinx-design dropdowns) is opened and each sortable table shows all of
   its rows; after printing the page is put back as the reader left it. */
(function () {
  "use strict";
  var opened = [];
  var lengths = [];
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details:not([open])").forEach(function (d) {
      d.open = true;
      opened.push(d);
    });
    (window.reviewbookTables || []).forEach(function (t) {
      lengths.push([t, t.page.len()]);
      t.page.len(-1).draw(false);
    });
  });
  window.addEventListener("afterprint", function () {
    opened.forEach(function (d) { d.open = false; });
    opened = [];
    lengths.forEach(function (x) { x[0].page.len(x[1]).draw(false); });
    lengths = [];
  });
})();

/* Tables keep a readable shape: a column of long text (its 80th-percentile cell
   longer than 40 characters) gets a minimum width, so that it does not become a
   tall narrow strip; a table wider than the column then scrolls sideways inside
   its own box (see custom.css), never the page. */
(function () {
  "use strict";
  function shape(table) {
    var head = table.tHead && table.tHead.rows[0];
    var body = table.tBodies[0];
    if (!head || !body) return;
    Array.prototype.forEach.call(head.cells, function (th, i) {
      var lengths = Array.prototype.map.call(body.rows, function (row) {
        var cell = row.cells[i];
        return cell ? cell.textContent.trim().length : 0;
      }).sort(function (a, b) { return a - b; });
      if (!lengths.length) return;
      var p80 = lengths[Math.min(lengths.length - 1, Math.ceil(0.8 * lengths.length) - 1)];
      if (p80 > 40) th.style.minWidth = Math.min(22, 6 + p80 / 10).toFixed(1) + "em";
    });
  }
  function run() { document.querySelectorAll(".bd-article table.table").forEach(shape); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", run);
  else run();
})();
