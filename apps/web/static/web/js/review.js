/* Review one footprint: accept it or move its corners (Leaflet.draw's polygon editor), then POST a manual
   footprint to /api/v1/photos/<id>/footprints; the API records the reviewer and makes it current. */
(function () {
  "use strict";
  const A = window.AstroLoc;
  const cfg = A.config("review-config");
  if (!cfg.footprint) return;
  const statusNode = document.getElementById("review-status");
  const note = document.getElementById("review-note");

  const map = L.map("review-map");
  map.attributionControl.setPrefix("AstroLoc");
  const base = A.basemap(A.newest(cfg.basemaps));
  if (base) base.addTo(map);
  const ring = cfg.footprint.geometry.coordinates[0].slice(0, 4).map(([lng, lat]) => [lat, lng]);
  const polygon = L.polygon(ring, A.footprintStyle(cfg.footprint.properties)).addTo(map);
  map.fitBounds(polygon.getBounds(), { padding: [40, 40] });
  polygon.editing.enable();
  let edited = false;
  polygon.on("edit", () => { edited = true; statusNode.textContent = "Polygon changed; save to record it."; });

  function corners() {
    const latlngs = polygon.getLatLngs()[0];
    if (latlngs.length !== 4) throw new Error("A footprint has exactly 4 corners; this polygon has " + latlngs.length + ".");
    return latlngs.map((p) => [Number(p.lng.toFixed(7)), Number(p.lat.toFixed(7))]);
  }

  async function submit(action) {
    let body;
    try {
      body = { corners: corners(), note: (action + (note.value ? ": " + note.value : "")).slice(0, 2000) };
    } catch (err) {
      statusNode.textContent = err.message; return;
    }
    statusNode.textContent = "Saving…";
    try {
      const fp = await A.api("/api/v1/photos/" + encodeURIComponent(cfg.photoId) + "/footprints", { method: "POST", body });
      statusNode.textContent = "Recorded footprint " + fp.id + " (" + action + ").";
      statusNode.dataset.saved = String(fp.id);
      edited = false;
    } catch (err) {
      statusNode.textContent = "Could not save: " + err.message;
    }
  }
  document.getElementById("review-accept").addEventListener("click", () => submit(edited ? "edited" : "accepted"));
  document.getElementById("review-save").addEventListener("click", () => submit("edited"));
})();
