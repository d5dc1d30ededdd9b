/* The home map: world context, basemap by year, footprints (or aggregated cells) for the view, the date
   histogram, filters in the URL. Opens on the archive unless the URL names a view. */
(function () {
  "use strict";
  const A = window.AstroLoc;
  const form = document.getElementById("filters");
  const statusNode = document.getElementById("map-status");
  const yearSelect = document.getElementById("f-year");
  const results = document.getElementById("results");
  const dateFrom = document.getElementById("f-from"), dateTo = document.getElementById("f-to");
  const RESULTS_SHOWN = 50;
  const HIGHLIGHT = { color: "#ffd400", weight: 4, fillOpacity: 0.45 };
  const params = new URLSearchParams(window.location.search);
  const firstView = A.config("first-view");

  const lat = parseFloat(params.get("lat")), lon = parseFloat(params.get("lon")), zoom = parseInt(params.get("z"), 10);
  const map = L.map("map", { preferCanvas: true, worldCopyJump: true, minZoom: 1, maxZoom: 18 });
  map.attributionControl.setPrefix("AstroLoc · Natural Earth");

  /** The extent of what the user may see (footprints, else imagery), or the world. */
  function archiveBounds() {
    if (!firstView.bounds) return null;
    const [w, s, e, n] = firstView.bounds;
    return L.latLngBounds([s, w], [n, e]);
  }
  function zoomToArchive() {
    const bounds = archiveBounds();
    if (bounds) map.fitBounds(bounds, { padding: [24, 24], maxZoom: 12 });
    else map.setView([20, 0], 2);
  }
  if (!isNaN(lat) && !isNaN(lon) && !isNaN(zoom)) map.setView([lat, lon], zoom);
  else zoomToArchive();

  const ArchiveControl = L.Control.extend({
    options: { position: "topleft" },
    onAdd() {
      const button = L.DomUtil.create("button", "archive-control leaflet-bar");
      button.type = "button";
      button.id = "zoom-archive";
      button.textContent = "Zoom to archive";
      button.title = firstView.of === "imagery" ? "Show all imagery (no footprints yet)" : "Show every footprint you may see";
      L.DomEvent.disableClickPropagation(button);
      L.DomEvent.on(button, "click", zoomToArchive);
      return button;
    },
  });
  new ArchiveControl().addTo(map);
  const world = A.worldLayer(map, A.config("world-urls"));

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

  const byPhoto = new Map();  // photo_id -> footprint layer, for the list's hover highlight
  const footprints = L.geoJSON(null, {
    style: (feature) => A.footprintStyle(feature.properties),
    onEachFeature: (feature, layer) => {
      byPhoto.set(feature.properties.photo_id, layer);
      layer.bindPopup(() => popupHtml(feature.properties));
      layer.on("add", () => {
        const el = layer.getElement && layer.getElement();
        if (el) el.setAttribute("aria-label", "Footprint of " + feature.properties.photo_id);
      });
    },
  }).addTo(map);
  const cells = L.layerGroup().addTo(map);

  function thumbnailUrl(photoId) {
    return "/api/v1/photos/" + encodeURIComponent(photoId) + "/files/thumbnail";
  }

  function popupHtml(p) {
    const id = A.escapeHtml(p.photo_id);
    const href = "/photos/" + encodeURIComponent(p.photo_id) + "/";
    const thumb = p.has_thumbnail
      ? '<img src="' + thumbnailUrl(p.photo_id) + '" alt="Thumbnail of ' + id + '" width="160">'
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

  /** Highlight a photo's footprint while its list entry is hovered or focused. */
  function highlight(photoId, on) {
    const layer = byPhoto.get(photoId);
    if (!layer) return;
    if (on) { layer.setStyle(HIGHLIGHT); layer.bringToFront(); } else footprints.resetStyle(layer);
    map.getContainer().dataset.highlighted = on ? photoId : "";
  }

  /** Keyboard and screen-reader access to what the map draws: the first photos in view, with thumbnails. */
  function listResults(features) {
    features.slice(0, RESULTS_SHOWN).forEach((f) => {
      const p = f.properties;
      const li = document.createElement("li");
      const a = document.createElement("a");
      a.href = "/photos/" + encodeURIComponent(p.photo_id) + "/";
      if (p.has_thumbnail) {
        const img = document.createElement("img");
        img.src = thumbnailUrl(p.photo_id); img.alt = ""; img.width = 48; img.height = 48; img.loading = "lazy";
        a.appendChild(img);
      } else {
        a.appendChild(document.createElement("span")).className = "no-thumb";
      }
      a.appendChild(document.createTextNode(p.photo_id + " (" + (p.datetime || "").slice(0, 10) + ")"));
      ["mouseenter", "focus"].forEach((type) => a.addEventListener(type, () => highlight(p.photo_id, true)));
      ["mouseleave", "blur"].forEach((type) => a.addEventListener(type, () => highlight(p.photo_id, false)));
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
      footprints.clearLayers(); cells.clearLayers(); byPhoto.clear(); results.innerHTML = "";
      if (data.mode === "features") {
        footprints.addData(data.features);
        listResults(data.features.features);
        statusNode.textContent = data.features.features.length + " of " + data.total + " footprints shown" +
          (data.truncated ? " (zoom in for the rest)" : "") + ".";
      } else {
        data.cells.forEach((cell) => cells.addLayer(cellMarker(cell)));
        statusNode.textContent = data.total + " footprints in view, grouped; zoom in to see polygons.";
      }
      map.getContainer().dataset.drawn = data.mode === "features" ? data.features.features.length : data.total;
      map.getContainer().dataset.loaded = data.mode;
      world.allowDetail();
    } catch (err) {
      if (err.name === "AbortError") return;
      statusNode.textContent = "Could not load footprints: " + err.message;
    }
  }

  const histogram = A.dateHistogram(document.getElementById("histogram"), (from, to) => {
    dateFrom.value = from; dateTo.value = to;
    histogram.update(months, from, to);
    load();
  });
  let months = [];
  /** The histogram's bars for the filters except the dates (so a brush can widen again). */
  async function loadDates() {
    const q = filterParams();
    q.delete("date_from"); q.delete("date_to");
    try {
      months = (await A.api("/map/dates?" + q.toString())).months;
      histogram.update(months, dateFrom.value, dateTo.value);
    } catch (err) {
      statusNode.textContent = "Could not load the date histogram: " + err.message;
    }
  }
  document.getElementById("dates-clear").addEventListener("click", () => {
    dateFrom.value = ""; dateTo.value = "";
    histogram.update(months, "", "");
    load();
  });

  form.addEventListener("submit", (event) => { event.preventDefault(); load(); loadDates(); });
  map.on("moveend", load);
  load();
  loadDates();
})();
