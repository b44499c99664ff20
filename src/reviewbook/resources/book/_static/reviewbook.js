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
   longer than 40 characters) gets a minimum width (6em and a tenth of an em per
   character, at most 36em or 85% of the window), so that it does not become a
   tall narrow strip.  Where those widths would make the table wider than its
   column, but the table fits with each at no less than 60% of it (and 8em),
   they shrink together until it fits; otherwise they stay, and the table
   scrolls sideways inside its own box (see custom.css), never the page.  The
   fit is made once styles and fonts are in (the load event), when the sortable
   tables are drawn, when a dropdown opens and when the window is resized. */
(function () {
  "use strict";
  var FLOOR = 8, SHRINK = 0.6;
  var shaped = [];
  function shape(table) {
    var head = table.tHead && table.tHead.rows[0];
    var body = table.tBodies[0];
    if (!head || !body) return;
    var wide = [];
    // at most 36em, and at most 85% of the window (a phone)
    var cap = Math.min(36, 0.85 * window.innerWidth / (parseFloat(getComputedStyle(table).fontSize) || 16));
    Array.prototype.forEach.call(head.cells, function (th, i) {
      var lengths = Array.prototype.map.call(body.rows, function (row) {
        var cell = row.cells[i];
        return cell ? cell.textContent.trim().length : 0;
      }).sort(function (a, b) { return a - b; });
      if (!lengths.length) return;
      var p80 = lengths[Math.min(lengths.length - 1, Math.ceil(0.8 * lengths.length) - 1)];
      if (p80 > 40) {
        var em = Math.max(FLOOR, Math.min(cap, 6 + p80 / 10));
        th.style.minWidth = em.toFixed(1) + "em";
        wide.push([th, em]);
      }
    });
    if (wide.length) shaped.push([table, wide]);
  }
  function set(wide, factor) {  // factor 1: as shaped; 0: at the least a column may get
    wide.forEach(function (x) {
      var least = Math.max(FLOOR, SHRINK * x[1]);
      x[0].style.minWidth = (least + (x[1] - least) * factor).toFixed(2) + "em";
    });
  }
  function fit(entry) {
    var table = entry[0], wide = entry[1];
    var box = table.closest(".pst-scrollable-table-container") || table.parentElement;
    if (!box || !box.clientWidth) return;  // not shown (a closed dropdown): fitted when it opens
    function excess() { return table.getBoundingClientRect().width - box.clientWidth; }
    set(wide, 1);
    if (excess() <= 1) return;
    set(wide, 0);  // every long column at its least
    if (excess() > 1) { set(wide, 1); return; }  // it cannot fit: readable columns, scrolling box
    var lo = 0, hi = 1;  // the largest factor that fits
    for (var i = 0; i < 12; i++) {
      var mid = (lo + hi) / 2;
      set(wide, mid);
      if (excess() <= 1) lo = mid; else hi = mid;
    }
    set(wide, lo);
  }
  function fitAll() { shaped.forEach(fit); }
  function run() { document.querySelectorAll(".bd-article table.table").forEach(shape); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", run);
  else run();
  if (document.readyState === "complete") fitAll();
  else window.addEventListener("load", fitAll);
  window.addEventListener("reviewbook-tables-ready", fitAll);  // sortable tables drawn (one page of rows)
  var pending = null;
  window.addEventListener("resize", function () {
    if (pending) clearTimeout(pending);
    pending = setTimeout(fitAll, 150);
  });
  document.addEventListener("toggle", function (e) {
    if (e.target.open) shaped.forEach(function (x) { if (e.target.contains(x[0])) fit(x); });
  }, true);
})();

/* On a phone a stacked table (the main outcomes of a section, a summary of findings)
   shows each row as a card: every cell under its column's name (custom.css lays
   it out below 700 px; a wider window, print and the PDF keep the table). */
(function () {
  "use strict";
  function label(table) {
    var head = table.tHead && table.tHead.rows[0];
    if (!head) return;
    var names = Array.prototype.map.call(head.cells, function (th) { return th.textContent.trim(); });
    Array.prototype.forEach.call(table.tBodies, function (body) {
      Array.prototype.forEach.call(body.rows, function (row) {
        Array.prototype.forEach.call(row.cells, function (cell, i) {
          if (names[i]) cell.setAttribute("data-label", names[i]);
        });
      });
    });
  }
  function run() { document.querySelectorAll(".bd-article table.reviewbook-stack").forEach(label); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", run);
  else run();
})();

/* A link to a folded part (a summary of findings, a table inside a dropdown) opens the
   dropdown that holds it, on arrival and on every later jump within the page. */
(function () {
  "use strict";
  function openTarget() {
    var id = decodeURIComponent(window.location.hash.slice(1));
    var target = id && document.getElementById(id);
    for (var d = target; d; d = d.parentElement) {
      if (d.tagName === "DETAILS") d.open = true;
    }
    if (target) target.scrollIntoView();
  }
  window.addEventListener("hashchange", openTarget);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", openTarget);
  else openTarget();
})();
