"""Optional learned matchers (kornia LoFTR), loaded lazily with weights from a local file.

Why lazy: kornia and its weights are heavy and optional; the platform runs without them. Weights are
never downloaded (no network at run time): pass ``weights_path`` to a checkpoint on disk.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ml.matching.base import BaseMatcher, MatchResult

__all__ = ["KorniaLoFTRMatcher"]


class KorniaLoFTRMatcher(BaseMatcher):
    """kornia's LoFTR (detector-free) + MAGSAC++ homography. ``weights_path``: a LoFTR state dict file."""

    name = "kornia-loftr"

    def __init__(self, weights_path: str | Path, *, device: str = "cpu", max_side: int = 640,
                 ransac_px: float = 4.0) -> None:
        try:
            import kornia.feature as KF
            import torch
        except ImportError as exc:
            raise ImportError(
                "the 'kornia-loftr' matcher needs kornia: pip install kornia, or use the default 'sift' matcher"
            ) from exc
        path = Path(weights_path)
        if not path.is_file():
            raise FileNotFoundError(f"LoFTR weights {path} not found: set the matcher's weights_path to a local file")
        self._torch = torch
        self._model = KF.LoFTR(pretrained=None)
        state = torch.load(path, map_location="cpu")
        self._model.load_state_dict(state.get("state_dict", state))
        self._model.eval().to(device)
        self.device = device
        self.max_side = max_side
        self.ransac_px = ransac_px

    def extract(self, image: np.ndarray) -> Any:
        import cv2

        gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image
        scale = min(1.0, self.max_side / max(gray.shape))
        if scale < 1.0:
            gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        t = self._torch.from_numpy(gray).float()[None, None].to(self.device) / 255.0
        return t, scale

    def match_features(self, query: Any, ref: Any) -> MatchResult:
        import cv2

        (tq, sq), (tr, sr) = query, ref
        with self._torch.inference_mode():
            out = self._model({"image0": tq, "image1": tr})
        q = out["keypoints0"].cpu().numpy().astype(np.float64) / sq
        r = out["keypoints1"].cpu().numpy().astype(np.float64) / sr
        if len(q) < 4:
            return MatchResult.empty()
        H, mask = cv2.findHomography(q, r, cv2.USAC_MAGSAC, self.ransac_px)
        if H is None:
            return MatchResult(q, r, np.zeros(len(q), bool), None)
        return MatchResult(q, r, mask.ravel().astype(bool), H / H[2, 2])
