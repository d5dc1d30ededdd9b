/* Photo detail: the footprint on the basemap (and NASA's machine footprint beside it, dashed) and the photo
   warped onto it, with an opacity slider. */
(function () {
  "use strict";
  const A = window.AstroLoc;
  const cfg = A.config("photo-config");
  if (!cfg.footprint || !document.getElementById("photo-map")) return;

  const map = L.map("photo-map", { zoomAnimation: false });
  map.attributionControl.setPrefix("AstroLoc");
  const base = A.basemap(A.newest(cfg.basemaps));
  if (base) base.addTo(map);
  const outline = L.geoJSON(cfg.footprint, { style: () => Object.assign(A.footprintStyle(cfg.footprint.properties), { fillOpacity: 0 }) })
    .addTo(map);
  const bounds = outline.getBounds();
  // NASA's machine footprint beside ours (dashed), when it is not the one already drawn as current.
  const theirs = cfg.thirdPartyFootprint;
  if (theirs && theirs.id !== cfg.footprint.id) {
    const layer = L.geoJSON(theirs, { style: () => Object.assign(A.footprintStyle(theirs.properties), { fillOpacity: 0 }) })
      .bindTooltip("NASA machine footprint").addTo(map);
    bounds.extend(layer.getBounds());
  }
  map.fitBounds(bounds, { padding: [20, 20] });

  const tile = cfg.matchedTile;
  if (tile && document.getElementById("tile-map")) {
    const [w, s, e, n] = tile.bounds;
    const tileMap = L.map("tile-map", { zoomAnimation: false, attributionControl: false });
    const layer = A.basemap({ year: tile.year, bounds: tile.bounds });
    layer.addTo(tileMap);
    L.rectangle([[s, w], [n, e]], { color: "#ffd24d", weight: 2, fill: false }).bindTooltip(tile.label).addTo(tileMap);
    tileMap.fitBounds([[s, w], [n, e]]);
  }

  if (!cfg.overlayKind) return;
  const corners = cfg.footprint.geometry.coordinates[0].slice(0, 4).map(([lng, lat]) => [lat, lng]);
  const url = "/api/v1/photos/" + encodeURIComponent(cfg.photoId) + "/files/" + cfg.overlayKind;
  const overlay = new A.WarpedImage(url, corners, { opacity: 0.7, alt: "Photo " + cfg.photoId + " warped onto the map" })
    .addTo(map);
  const slider = document.getElementById("overlay-opacity");
  slider.addEventListener("input", () => overlay.setOpacity(parseFloat(slider.value)));
})();
