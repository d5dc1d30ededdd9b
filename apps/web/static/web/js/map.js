/* The home map: basemap by year, footprints (or aggregated cells) for the view, filters in the URL. */
(function () {
  "use strict";
  const A = window.AstroLoc;
  const form = document.getElementById("filters");
  const statusNode = document.getElementById("map-status");
  const yearSelect = document.getElementById("f-year");
  const results = document.getElementById("results");
  const RESULTS_SHOWN = 50;
  const params = new URLSearchParams(window.location.search);

  const lat = parseFloat(params.get("lat")), lon = parseFloat(params.get("lon")), zoom = parseInt(params.get("z"), 10);
  const map = L.map("map", { preferCanvas: true, worldCopyJump: true, minZoom: 1, maxZoom: 18 })
    .setView([isNaN(lat) ? 20 : lat, isNaN(lon) ? 0 : lon], isNaN(zoom) ? 2 : zoom);
  map.attributionControl.setPrefix("AstroLoc");

  const basemaps = A.config("basemaps");
  let base = null;
  function setYear(year) {
    if (base) map.removeLayer(base);
    base = A.basemap(basemaps.find((layer) => String(layer.year) === String(year)));
    if (base) base.addTo(map);
  }
  if (yearSelect) {
    if (params.get("year")) yearSelect.value = params.get("year");
    yearSelect.addEventListener("change", () => { setYear(yearSelect.value); syncUrl(); });
    setYear(yearSelect.value);
  }

  const footprints = L.geoJSON(null, {
    style: (feature) => A.footprintStyle(feature.properties),
    onEachFeature: (feature, layer) => {
      layer.bindPopup(() => popupHtml(feature.properties));
      layer.on("add", () => {
        const el = layer.getElement && layer.getElement();
        if (el) el.setAttribute("aria-label", "Footprint of " + feature.properties.photo_id);
      });
    },
  }).addTo(map);
  const cells = L.layerGroup().addTo(map);

  function popupHtml(p) {
    const id = A.escapeHtml(p.photo_id);
    const href = "/photos/" + encodeURIComponent(p.photo_id) + "/";
    const thumb = p.has_thumbnail
      ? '<img src="/api/v1/photos/' + encodeURIComponent(p.photo_id) + '/files/thumbnail" alt="Thumbnail of ' + id + '" width="160">'
      : "";
    const conf = p.confidence === null ? "—" : Number(p.confidence).toFixed(2);
    return '<div class="popup">' + thumb + "<strong>" + id + "</strong><br>" +
      A.escapeHtml((p.datetime || "").slice(0, 10)) + " · " + A.escapeHtml(p.source) + " · confidence " + conf +
      '<br><a href="' + href + '">Open photo ' + id + "</a></div>";
  }

  function cellMarker(cell) {
    const size = Math.min(56, 22 + Math.round(Math.log10(cell.count + 1) * 10));
    const icon = L.divIcon({ className: "cell-icon", html: "<span>" + cell.count + "</span>", iconSize: [size, size] });
    const marker = L.marker([cell.lat, cell.lon], { icon, keyboard: true, title: cell.count + " footprints; zoom in" });
    marker.on("click", () => map.setView([cell.lat, cell.lon], Math.min(map.getZoom() + 3, 18)));
    return marker;
  }

  /** Keyboard and screen-reader access to what the map draws: links to the first photos in view. */
  function listResults(features) {
    features.slice(0, RESULTS_SHOWN).forEach((f) => {
      const li = document.createElement("li");
      const a = document.createElement("a");
      a.href = "/photos/" + encodeURIComponent(f.properties.photo_id) + "/";
      a.textContent = f.properties.photo_id + " (" + (f.properties.datetime || "").slice(0, 10) + ")";
      li.appendChild(a);
      results.appendChild(li);
    });
  }

  function filterParams() {
    const out = new URLSearchParams();
    for (const [key, value] of new FormData(form)) if (value && key !== "year") out.set(key, value);
    return out;
  }

  function syncUrl() {
    const q = filterParams();
    const c = map.getCenter();
    q.set("lat", c.lat.toFixed(4)); q.set("lon", c.lng.toFixed(4)); q.set("z", map.getZoom());
    if (yearSelect) q.set("year", yearSelect.value);
    history.replaceState(null, "", "?" + q.toString());
  }

  function viewBbox() {
    const b = map.getBounds();
    const west = Math.max(-180, b.getWest()), east = Math.min(180, b.getEast());
    const south = Math.max(-90, b.getSouth()), north = Math.min(90, b.getNorth());
    return [west, south, east, north].map((v) => v.toFixed(5)).join(",");
  }

  /** The export links: the API's parameters for the page's filters (dates as one interval) and the view. */
  function updateExportLinks() {
    const q = filterParams();
    const start = q.get("date_from"), end = q.get("date_to");
    ["q", "date_from", "date_to"].forEach((key) => q.delete(key));
    if (start || end) q.set("datetime", (start || "..") + "/" + (end || ".."));
    q.set("bbox", viewBbox());
    document.querySelectorAll("a.export-link").forEach((a) => {
      a.href = "/api/v1/footprints/export." + a.dataset.format + "?" + q.toString();
    });
  }

  let controller = null;
  async function load() {
    syncUrl();
    updateExportLinks();
    if (controller) controller.abort();
    controller = new AbortController();
    const q = filterParams();
    q.set("bbox", viewBbox()); q.set("zoom", map.getZoom());
    statusNode.textContent = "Loading footprints…";
    try {
      const data = await A.api("/map/data?" + q.toString(), { signal: controller.signal });
      footprints.clearLayers(); cells.clearLayers(); results.innerHTML = "";
      if (data.mode === "features") {
        footprints.addData(data.features);
        listResults(data.features.features);
        statusNode.textContent = data.features.features.length + " of " + data.total + " footprints shown" +
          (data.truncated ? " (zoom in for the rest)" : "") + ".";
      } else {
        data.cells.forEach((cell) => cells.addLayer(cellMarker(cell)));
        statusNode.textContent = data.total + " footprints in view, grouped; zoom in to see polygons.";
      }
      map.getContainer().dataset.loaded = data.mode;
    } catch (err) {
      if (err.name === "AbortError") return;
      statusNode.textContent = "Could not load footprints: " + err.message;
    }
  }

  form.addEventListener("submit", (event) => { event.preventDefault(); load(); });
  map.on("moveend", load);
  load();
})();
