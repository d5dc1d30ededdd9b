/* A photo warped onto the map by a projective transform (CSS matrix3d) through its footprint's 4 corners. */
(function () {
  "use strict";

  /** Solve the 8 homography unknowns mapping src[i] -> dst[i] (4 point pairs) by Gaussian elimination. */
  function homography(src, dst) {
    const a = [], b = [];
    for (let i = 0; i < 4; i++) {
      const [x, y] = src[i], [u, v] = dst[i];
      a.push([x, y, 1, 0, 0, 0, -u * x, -u * y]); b.push(u);
      a.push([0, 0, 0, x, y, 1, -v * x, -v * y]); b.push(v);
    }
    for (let col = 0; col < 8; col++) {
      let pivot = col;
      for (let r = col + 1; r < 8; r++) if (Math.abs(a[r][col]) > Math.abs(a[pivot][col])) pivot = r;
      [a[col], a[pivot]] = [a[pivot], a[col]]; [b[col], b[pivot]] = [b[pivot], b[col]];
      for (let r = 0; r < 8; r++) {
        if (r === col) continue;
        const f = a[r][col] / a[col][col];
        for (let c = col; c < 8; c++) a[r][c] -= f * a[col][c];
        b[r] -= f * b[col];
      }
    }
    return b.map((value, i) => value / a[i][i]);
  }

  /** CSS matrix3d (column-major) of the homography h = [a b c d e f g h]. */
  function matrix3d(h) {
    return "matrix3d(" + [h[0], h[3], 0, h[6], h[1], h[4], 0, h[7], 0, 0, 1, 0, h[2], h[5], 0, 1].join(",") + ")";
  }

  /** corners: [[lat, lng] x 4] in image order TL, TR, BR, BL. */
  const WarpedImage = L.Layer.extend({
    initialize(url, corners, options) {
      this._url = url; this._corners = corners;
      L.setOptions(this, Object.assign({ opacity: 0.7, alt: "" }, options));
    },
    onAdd(map) {
      const img = this._img = L.DomUtil.create("img", "leaflet-warped-image");
      img.alt = this.options.alt;
      img.style.position = "absolute"; img.style.transformOrigin = "0 0"; img.style.pointerEvents = "none";
      img.style.opacity = this.options.opacity;
      img.addEventListener("load", () => this._reset());
      img.src = this._url;
      map.getPanes().overlayPane.appendChild(img);
      map.on("zoomend viewreset", this._reset, this);
      this._reset();
    },
    onRemove(map) {
      L.DomUtil.remove(this._img);
      map.off("zoomend viewreset", this._reset, this);
    },
    setOpacity(value) {
      this.options.opacity = value;
      if (this._img) this._img.style.opacity = value;
      return this;
    },
    _reset() {
      const img = this._img, w = img.naturalWidth, h = img.naturalHeight;
      if (!this._map || !w || !h) return;
      const dst = this._corners.map((c) => {
        const p = this._map.latLngToLayerPoint(c);
        return [p.x, p.y];
      });
      img.style.width = w + "px"; img.style.height = h + "px";
      img.style.left = "0px"; img.style.top = "0px";
      img.style.transform = matrix3d(homography([[0, 0], [w, 0], [w, h], [0, h]], dst));
    },
  });

  window.AstroLoc.WarpedImage = WarpedImage;
  window.AstroLoc.homography = homography;
})();
