/* Shared helpers of the AstroLoc pages: API calls with CSRF, footprint styles, the basemap. */
(function () {
  "use strict";

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  /** fetch JSON from our API; throws an Error whose message is the API's description. */
  async function api(url, options) {
    const opts = Object.assign({ credentials: "same-origin", headers: {} }, options || {});
    opts.headers = Object.assign({ Accept: "application/json" }, opts.headers);
    if (opts.method && opts.method !== "GET") {
      opts.headers["X-CSRFToken"] = csrfToken();
      if (opts.body && typeof opts.body !== "string" && !(opts.body instanceof FormData)) {
        opts.headers["Content-Type"] = "application/json";
        opts.body = JSON.stringify(opts.body);
      }
    }
    const response = await fetch(url, opts);
    const body = response.status === 204 ? null : await response.json().catch(() => null);
    if (!response.ok) {
      const detail = body && (body.description || body.detail);
      const fields = body && body.fields ? " " + JSON.stringify(body.fields) : "";
      throw new Error((detail || "Request failed (" + response.status + ")") + fields);
    }
    return body;
  }

  function confidenceColour(confidence) {
    if (confidence === null || confidence === undefined) return "#808080";
    if (confidence >= 0.8) return "#1a9850";
    if (confidence >= 0.5) return "#fdae61";
    return "#d73027";
  }

  const SOURCE_OUTLINE = { manual: "#2b59c3", imported: "#7b3294", nasa_ml: "#e7298a" };
  const SOURCE_DASH = { nasa_ml: "6 4" };  // a third party's footprint, not ours

  /** Fill by confidence, outline by source (manual / imported / NASA's machine footprint stand out). */
  function footprintStyle(properties) {
    const fill = confidenceColour(properties.confidence);
    return { color: SOURCE_OUTLINE[properties.source] || fill, weight: 2, fillColor: fill, fillOpacity: 0.25,
             dashArray: SOURCE_DASH[properties.source] || null };
  }

  /** The platform's own XYZ basemap, limited to its coverage and stored zooms ({year, bounds: [w, s, e, n],
      min_zoom}): no request for a tile the server does not have; null without a layer. */
  function basemap(layer) {
    if (!layer) return null;
    const [w, s, e, n] = layer.bounds;
    return L.tileLayer("/tiles/" + layer.year + "/{z}/{x}/{y}.png", {
      maxZoom: 18, minZoom: layer.min_zoom || 0, bounds: L.latLngBounds([s, w], [n, e]),
      attribution: "AstroLoc imagery " + layer.year,
    });
  }

  /** The newest basemap of a list, or null. */
  function newest(layers) {
    return layers && layers.length ? layers[layers.length - 1] : null;
  }

  function escapeHtml(text) {
    return String(text === null || text === undefined ? "" : text).replace(/[&<>"']/g,
      (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }

  function config(id) {
    const node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : {};
  }

  window.AstroLoc = { api, csrfToken, confidenceColour, footprintStyle, basemap, newest, escapeHtml, config };
})();
