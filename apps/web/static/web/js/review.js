/* Review one footprint: accept it, reject it, or move its corners (Leaflet.draw's polygon editor) and save.
   Accept and save POST a manual footprint to /api/v1/photos/<id>/footprints; reject POSTs to
   /api/v1/footprints/<id>/reject. The API records the reviewer either way. */
(function () {
  "use strict";
  const A = window.AstroLoc;
  const cfg = A.config("review-config");
  if (!cfg.footprint) return;
  const statusNode = document.getElementById("review-status");
  const note = document.getElementById("review-note");
  const accept = document.getElementById("review-accept");
  const save = document.getElementById("review-save");
  const reject = document.getElementById("review-reject");

  const map = L.map("review-map");
  map.attributionControl.setPrefix("AstroLoc");
  const base = A.basemap(A.newest(cfg.basemaps));
  if (base) base.addTo(map);
  const ring = cfg.footprint.geometry.coordinates[0].slice(0, 4).map(([lng, lat]) => [lat, lng]);
  const polygon = L.polygon(ring, A.footprintStyle(cfg.footprint.properties)).addTo(map);
  map.fitBounds(polygon.getBounds(), { padding: [40, 40] });
  if (!save) return; // read-only: the user may not review this photo
  polygon.editing.enable();
  let edited = false;
  polygon.on("edit", () => { edited = true; statusNode.textContent = "Polygon changed; save to record it."; });
  keyboardCorners();

  /** The editor's corner handles, named and movable with the arrow keys (Shift: 10x); its mid-point handles
      are removed: a footprint has exactly four corners. Leaflet.draw keeps them in PolyVerticesEdit. */
  function keyboardCorners() {
    const CORNERS = ["top-left", "top-right", "bottom-right", "bottom-left"];
    const handlers = polygon.editing._verticesHandlers || [];
    handlers.forEach((handler) => {
      handler._markerGroup.eachLayer((marker) => {
        if (!handler._markers.includes(marker)) handler._markerGroup.removeLayer(marker);
      });
      handler._markers.forEach((marker, i) => {
        const icon = marker.getElement();
        icon.setAttribute("aria-label", "Corner " + (i + 1) + " (" + (CORNERS[i] || "extra") + " of the photo): " +
          "arrow keys move it");
        icon.addEventListener("keydown", (e) => {
          const step = e.shiftKey ? 20 : 2;
          const delta = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] }[e.key];
          if (!delta) return;
          e.preventDefault();
          const p = map.latLngToContainerPoint(marker.getLatLng()).add(delta);
          marker.setLatLng(map.containerPointToLatLng(p));
          marker.fire("drag").fire("dragend");
        });
      });
    });
    // Enter on a focused handle would "click" it, which Leaflet.draw takes as "delete this corner".
    map.getContainer().addEventListener("keypress", (e) => {
      if (e.target.classList && e.target.classList.contains("leaflet-editing-icon")) e.stopPropagation();
    }, true);
  }

  function corners() {
    const latlngs = polygon.getLatLngs()[0];
    if (latlngs.length !== 4) throw new Error("A footprint has exactly 4 corners; this polygon has " + latlngs.length + ".");
    return latlngs.map((p) => [Number(p.lng.toFixed(7)), Number(p.lat.toFixed(7))]);
  }

  function noteFor(action) {
    return (action + (note.value ? ": " + note.value : "")).slice(0, 2000);
  }

  async function submit(action) {
    let body;
    try {
      body = { corners: corners(), note: noteFor(action) };
    } catch (err) {
      statusNode.textContent = err.message; return;
    }
    statusNode.textContent = "Saving…";
    try {
      const fp = await A.api("/api/v1/photos/" + encodeURIComponent(cfg.photoId) + "/footprints", { method: "POST", body });
      statusNode.textContent = "Recorded footprint " + fp.id + " (" + action + ").";
      statusNode.dataset.saved = String(fp.id);
      edited = false;
      accept.disabled = true;
      if (reject) { reject.disabled = false; reject.dataset.footprintId = String(fp.id); }
    } catch (err) {
      statusNode.textContent = "Could not save: " + err.message;
    }
  }

  async function rejectCurrent() {
    const id = reject.dataset.footprintId;
    if (!id) return;
    statusNode.textContent = "Rejecting…";
    try {
      await A.api("/api/v1/footprints/" + encodeURIComponent(id) + "/reject", { method: "POST", body: { note: note.value } });
      statusNode.textContent = "Rejected footprint " + id + "; the photo is back in the review queue. " +
        "Move the corners and save to record a new footprint.";
      statusNode.dataset.rejected = id;
      reject.disabled = true; accept.disabled = true;
      polygon.setStyle({ dashArray: "6 4", fillOpacity: 0.1 });
      delete reject.dataset.footprintId;
    } catch (err) {
      statusNode.textContent = "Could not reject: " + err.message;
    }
  }

  accept.addEventListener("click", () => submit(edited ? "edited" : "accepted"));
  save.addEventListener("click", () => submit("edited"));
  if (reject) reject.addEventListener("click", rejectCurrent);
})();
