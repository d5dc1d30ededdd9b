/* The capture-date histogram under the map: one bar per month (gaps included, so time reads left to right);
   drag across it to pick a date range (the form's date fields carry it, so the keyboard has the same filter). */
(function () {
  "use strict";
  const SVG = "http://www.w3.org/2000/svg";
  const HEIGHT = 56;

  function el(name, attrs) {
    const node = document.createElementNS(SVG, name);
    Object.entries(attrs).forEach(([k, v]) => node.setAttribute(k, v));
    return node;
  }

  /** Every month from the first to the last of ``rows`` ({month: "YYYY-MM", count}), missing ones at 0. */
  function continuous(rows) {
    if (!rows.length) return [];
    const counts = new Map(rows.map((r) => [r.month, r.count]));
    let [y, m] = rows[0].month.split("-").map(Number);
    const [ly, lm] = rows[rows.length - 1].month.split("-").map(Number);
    const out = [];
    while (y < ly || (y === ly && m <= lm)) {
      const key = y + "-" + String(m).padStart(2, "0");
      out.push({ month: key, count: counts.get(key) || 0 });
      m += 1; if (m > 12) { m = 1; y += 1; }
    }
    return out;
  }

  function lastDay(month) {
    const [y, m] = month.split("-").map(Number);
    return month + "-" + String(new Date(Date.UTC(y, m, 0)).getUTCDate()).padStart(2, "0");
  }

  /** ``onSelect(from, to)``: ISO dates (first day of the first month, last day of the last), or nulls. */
  function dateHistogram(svg, onSelect) {
    let months = [], selected = null, dragFrom = null;

    function barWidth() { return months.length ? svg.clientWidth / months.length : 0; }
    function indexAt(event) {
      const x = event.clientX - svg.getBoundingClientRect().left;
      return Math.max(0, Math.min(months.length - 1, Math.floor(x / barWidth())));
    }

    function render() {
      svg.replaceChildren();
      svg.setAttribute("height", HEIGHT);
      const width = svg.clientWidth, w = barWidth();
      const top = Math.max(1, ...months.map((m) => m.count));
      if (selected) {
        svg.appendChild(el("rect", { class: "brush", x: selected[0] * w, y: 0, width: (selected[1] - selected[0] + 1) * w,
                                     height: HEIGHT }));
      }
      months.forEach((m, i) => {
        const h = m.count ? Math.max(2, (HEIGHT - 14) * Math.sqrt(m.count / top)) : 0;
        const inside = !selected || (i >= selected[0] && i <= selected[1]);
        const bar = el("rect", { x: i * w + (w > 3 ? 0.5 : 0), y: HEIGHT - 12 - h, width: Math.max(w - (w > 3 ? 1 : 0), 0.5),
                                 height: h, class: inside ? "bar" : "bar bar-out" });
        bar.appendChild(el("title", {})).textContent = m.month + ": " + m.count;
        svg.appendChild(bar);
      });
      if (months.length) {
        [[0, "start"], [months.length - 1, "end"]].forEach(([i, anchor]) => {
          const label = el("text", { x: anchor === "start" ? 2 : width - 2, y: HEIGHT - 1, "text-anchor": anchor,
                                     class: "axis" });
          label.textContent = months[i].month;
          svg.appendChild(label);
        });
      }
      const total = months.reduce((a, m) => a + m.count, 0);
      svg.setAttribute("aria-label", months.length
        ? "Footprints per capture month, " + months[0].month + " to " + months[months.length - 1].month + ", " + total +
          " in all" + (selected ? "; selected " + months[selected[0]].month + " to " + months[selected[1]].month : "")
        : "No dated footprints");
    }

    svg.addEventListener("pointerdown", (event) => {
      if (!months.length) return;
      dragFrom = indexAt(event);
      selected = [dragFrom, dragFrom];
      svg.setPointerCapture(event.pointerId);
      render();
    });
    svg.addEventListener("pointermove", (event) => {
      if (dragFrom === null) return;
      const i = indexAt(event);
      selected = [Math.min(dragFrom, i), Math.max(dragFrom, i)];
      render();
    });
    svg.addEventListener("pointerup", () => {
      if (dragFrom === null) return;
      dragFrom = null;
      onSelect(months[selected[0]].month + "-01", lastDay(months[selected[1]].month));
    });
    window.addEventListener("resize", render);

    return {
      /** New bars; ``from``/``to`` (ISO dates or "") mark the current selection. */
      update(rows, from, to) {
        months = continuous(rows);
        const lo = from ? months.findIndex((m) => m.month >= from.slice(0, 7)) : 0;
        let hi = -1;
        months.forEach((m, i) => { if (!to || m.month <= to.slice(0, 7)) hi = i; });
        selected = (from || to) && lo >= 0 && hi >= lo ? [lo, hi] : null;
        render();
      },
    };
  }

  window.AstroLoc.dateHistogram = dateHistogram;
})();
