/* The world context under the map: land and coastlines below the imagery, country borders and names above it,
   from Natural Earth (vendored TopoJSON, web/world/README.md). 1:110m at once, 1:50m from zoom 5 on once the
   map allows it (after its first footprints). */
(function () {
  "use strict";
  const DETAIL_ZOOM = 5;
  const LABEL_PX_PER_CHAR = 7;

  /** A line or ring made continuous across the antimeridian (a jump of more than 180 degrees is unwrapped by
      360), so Leaflet draws it beyond 180 rather than as a stroke across the whole world. */
  function unwrap(coords) {
    const out = [];
    let shift = 0;
    coords.forEach(([x, y], i) => {
      if (i > 0) {
        const dx = x + shift - out[i - 1][0];
        if (dx > 180) shift -= 360; else if (dx < -180) shift += 360;
      }
      out.push([x + shift, y]);
    });
    return out;
  }

  function unwrapGeometry(geometry) {
    const t = geometry.type, c = geometry.coordinates;
    if (t === "LineString") return { type: t, coordinates: unwrap(c) };
    if (t === "MultiLineString" || t === "Polygon") return { type: t, coordinates: c.map(unwrap) };
    if (t === "MultiPolygon") return { type: t, coordinates: c.map((p) => p.map(unwrap)) };
    return geometry;
  }

  function unwrapAll(geojson) {
    if (geojson.type === "FeatureCollection") {
      return { type: geojson.type, features: geojson.features.map((f) => ({ ...f, geometry: unwrapGeometry(f.geometry) })) };
    }
    if (geojson.type === "Feature") return { ...geojson, geometry: unwrapGeometry(geojson.geometry) };
    return unwrapGeometry(geojson);
  }

  /** Centre and lon/lat bounds of a country's largest part (labels go there). */
  function labelPlace(feature) {
    const polys = feature.geometry.type === "MultiPolygon" ? feature.geometry.coordinates : [feature.geometry.coordinates];
    let best = null, bestArea = -1;
    polys.forEach((poly) => {
      const ring = poly[0];
      let w = 180, e = -180, s = 90, n = -90;
      ring.forEach(([x, y]) => { w = Math.min(w, x); e = Math.max(e, x); s = Math.min(s, y); n = Math.max(n, y); });
      const area = (e - w) * (n - s);
      if (area > bestArea) { bestArea = area; best = L.latLngBounds([s, w], [n, e]); }
    });
    return best;
  }

  function area(bounds) {
    return (bounds.getEast() - bounds.getWest()) * (bounds.getNorth() - bounds.getSouth());
  }

  function worldLayer(map, urls) {
    map.createPane("world-land").style.zIndex = 150;  // under the imagery (tilePane 200)
    map.createPane("world-lines").style.zIndex = 350;  // over the imagery, under the footprints (400)
    map.getPane("world-lines").style.pointerEvents = "none";
    const land = L.geoJSON(null, {
      pane: "world-land", interactive: false, renderer: L.canvas({ pane: "world-land" }),
      style: { color: "#6f8799", weight: 1, fillColor: "#ece6d6", fillOpacity: 1 },
    }).addTo(map);
    const borders = L.geoJSON(null, {
      pane: "world-lines", interactive: false, renderer: L.canvas({ pane: "world-lines" }),
      style: { color: "#5b5b5b", weight: 0.8, opacity: 0.7, dashArray: "4 3" },
    }).addTo(map);
    const labels = L.layerGroup().addTo(map);
    let countries = [], detail = "110m", loading = null;

    /** Names of the countries wide enough at this zoom, largest first, none overlapping another. */
    function placeLabels() {
      labels.clearLayers();
      const placed = [];
      countries.forEach(({ name, bounds }) => {
        const a = map.project(bounds.getSouthWest()), b = map.project(bounds.getNorthEast());
        const width = name.length * LABEL_PX_PER_CHAR;
        if (Math.abs(b.x - a.x) < width || Math.abs(b.y - a.y) < 14) return;
        if (!map.getBounds().pad(0.2).contains(bounds.getCenter())) return;
        const c = map.project(bounds.getCenter());
        const box = [c.x - width / 2 - 4, c.y - 9, c.x + width / 2 + 4, c.y + 9];
        if (placed.some((p) => box[0] < p[2] && p[0] < box[2] && box[1] < p[3] && p[1] < box[3])) return;
        placed.push(box);
        labels.addLayer(L.marker(bounds.getCenter(), {
          pane: "world-lines", interactive: false, keyboard: false,
          icon: L.divIcon({ className: "country-label", html: "<span>" + window.AstroLoc.escapeHtml(name) + "</span>",
                            iconSize: null }),
        }));
      });
    }

    async function show(which) {
      const topo = await (await fetch(urls[which])).json();
      if (which === "110m" && detail === "50m") return;  // the detail arrived first
      land.clearLayers(); borders.clearLayers();
      land.addData(unwrapAll(topojson.feature(topo, topo.objects.land)));
      borders.addData(unwrapAll(topojson.mesh(topo, topo.objects.countries, (a, b) => a !== b)));
      if (!countries.length) {
        countries = topojson.feature(topo, topo.objects.countries).features
          .filter((f) => f.geometry && f.properties && f.properties.name)
          .map((f) => ({ name: f.properties.name, bounds: labelPlace(f) }))
          .sort((p, q) => area(q.bounds) - area(p.bounds));
      }
      detail = which;
      placeLabels();
      map.getContainer().dataset.world = which;
    }

    let detailAllowed = false;
    function maybeDetail() {
      if (detailAllowed && map.getZoom() >= DETAIL_ZOOM && detail === "110m" && !loading) loading = show("50m");
    }
    map.on("moveend", () => { maybeDetail(); placeLabels(); });
    show("110m");
    return {
      /** Allow the 1:50m file (236 KiB gzip, seconds of parsing on a slow machine): the map calls this once its
          first footprints are drawn, so the detail never delays them. */
      allowDetail() { detailAllowed = true; maybeDetail(); },
    };
  }

  window.AstroLoc.worldLayer = worldLayer;
})();
