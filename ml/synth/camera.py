"""The astronaut camera: a pinhole camera on the ISS looking at a spherical Earth.

A photo is made by casting one ray per pixel from the spacecraft and intersecting it with the Earth
(perspective, not a crop), so footprints of oblique shots are the true trapezoids and the ground truth
(4 corner rays) is exact by construction. Image axes follow OpenCV: x right, y down, z forward.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from ml.geo import (
    EARTH_RADIUS_KM,
    LonLat,
    destination_point,
    ecef_to_lonlat,
    enu_axes,
    initial_bearing_deg,
    lonlat_to_ecef,
)

SENSOR_MM = (36.0, 24.0)


class BeyondHorizonError(ValueError):
    """Part of the image sees space, not the ground: such a pose has no four-corner footprint."""


@dataclass(frozen=True)
class CameraPose:
    """Where the camera is and where it looks.

    ``azimuth_deg`` is the bearing of the look direction at the nadir point; ``roll_deg`` turns the image
    about the optical axis (0: image top points away from the spacecraft, towards the horizon).
    """

    nadir_lon: float
    nadir_lat: float
    altitude_km: float
    tilt_deg: float
    azimuth_deg: float
    roll_deg: float
    focal_length_mm: float
    width_px: int
    height_px: int

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def nadir(self) -> LonLat:
        return (self.nadir_lon, self.nadir_lat)


def _frame(pose: CameraPose) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Camera centre (ECEF km) and its x-right, y-down, z-forward unit axes."""
    east, north, up = enu_axes(pose.nadir_lon, pose.nadir_lat)
    centre = up * (EARTH_RADIUS_KM + pose.altitude_km)
    t, a = math.radians(pose.tilt_deg), math.radians(pose.azimuth_deg)
    horizontal = east * math.sin(a) + north * math.cos(a)
    forward = -up * math.cos(t) + horizontal * math.sin(t)
    image_up = horizontal - np.dot(horizontal, forward) * forward
    image_up /= np.linalg.norm(image_up)
    down = -image_up
    right = np.cross(down, forward)
    r = math.radians(pose.roll_deg)
    right, down = right * math.cos(r) + down * math.sin(r), -right * math.sin(r) + down * math.cos(r)
    return centre, right, down, forward


def _intrinsics(pose: CameraPose) -> tuple[float, float, float, float]:
    fx = pose.focal_length_mm / SENSOR_MM[0] * pose.width_px
    fy = pose.focal_length_mm / SENSOR_MM[1] * pose.height_px
    return fx, fy, pose.width_px / 2.0, pose.height_px / 2.0


def pixels_to_lonlat(
    pose: CameraPose, u: np.ndarray, v: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ground (lon, lat) seen at pixel positions (u, v) (pixel corners at integers), and a hit mask.

    Rays that miss the Earth get NaN and False in the mask.
    """
    centre, right, down, forward = _frame(pose)
    fx, fy, cx, cy = _intrinsics(pose)
    u = np.asarray(u, np.float64)
    v = np.asarray(v, np.float64)
    d = ((u - cx) / fx)[..., None] * right + ((v - cy) / fy)[..., None] * down + forward
    d /= np.linalg.norm(d, axis=-1, keepdims=True)
    b = d @ centre
    c = float(centre @ centre) - EARTH_RADIUS_KM**2
    disc = b * b - c
    hit = (disc >= 0) & (b < 0)
    t = -b - np.sqrt(np.where(hit, disc, 0.0))
    points = centre + t[..., None] * d
    lon, lat = ecef_to_lonlat(points)
    lon = np.where(hit, lon, np.nan)
    lat = np.where(hit, lat, np.nan)
    return lon, lat, hit


def lonlat_to_pixels(pose: CameraPose, lon, lat) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Project ground points into the image: (u, v) and a mask of points in front of the camera and visible.

    Visibility means the point is on the hemisphere facing the spacecraft (not behind the Earth's limb).
    """
    centre, right, down, forward = _frame(pose)
    fx, fy, cx, cy = _intrinsics(pose)
    p = lonlat_to_ecef(np.asarray(lon, np.float64), np.asarray(lat, np.float64))
    ray = p - centre
    z = ray @ forward
    u = cx + fx * (ray @ right) / z
    v = cy + fy * (ray @ down) / z
    visible = (z > 0) & ((p * ray).sum(-1) < 0)
    return u, v, visible


def footprint(pose: CameraPose) -> tuple[LonLat, LonLat, LonLat, LonLat]:
    """Ground corners of the image in image order: top-left, top-right, bottom-right, bottom-left."""
    w, h = pose.width_px, pose.height_px
    u = np.array([0.0, w, w, 0.0])
    v = np.array([0.0, 0.0, h, h])
    lon, lat, hit = pixels_to_lonlat(pose, u, v)
    if not hit.all():
        raise BeyondHorizonError("a corner of the image looks past the horizon")
    return tuple((float(lo), float(la)) for lo, la in zip(lon, lat, strict=True))  # type: ignore[return-value]


def centre_point(pose: CameraPose) -> LonLat:
    """Ground point on the optical axis (the photo's true centre)."""
    lon, lat, hit = pixels_to_lonlat(pose, np.array([pose.width_px / 2]), np.array([pose.height_px / 2]))
    if not hit.all():
        raise BeyondHorizonError("the optical axis misses the Earth")
    return (float(lon[0]), float(lat[0]))


def ground_offset_km(altitude_km: float, tilt_deg: float) -> float:
    """Great-circle distance from the nadir to where a ray ``tilt_deg`` off nadir meets the Earth."""
    t = math.radians(tilt_deg)
    s = (EARTH_RADIUS_KM + altitude_km) / EARTH_RADIUS_KM * math.sin(t)
    if s >= 1.0:
        raise BeyondHorizonError(f"tilt {tilt_deg} deg looks past the horizon")
    return EARTH_RADIUS_KM * (math.asin(s) - t)


def pose_looking_at(
    centre: LonLat,
    *,
    altitude_km: float,
    tilt_deg: float,
    look_azimuth_deg: float,
    roll_deg: float,
    focal_length_mm: float,
    size_px: tuple[int, int],
) -> CameraPose:
    """Camera whose optical axis hits ``centre``, seen from the side given by ``look_azimuth_deg``.

    The spacecraft's nadir is placed back along the look direction, so nadir and footprint are consistent
    as in NASA's metadata (the nadir of an oblique photo lies hundreds of km from what it shows).
    """
    dist = ground_offset_km(altitude_km, tilt_deg)
    nadir = destination_point(centre[0], centre[1], (look_azimuth_deg + 180.0) % 360.0, dist)
    azimuth = look_azimuth_deg
    if dist > 1e-6:
        azimuth = initial_bearing_deg(nadir[0], nadir[1], centre[0], centre[1])
    return CameraPose(
        nadir_lon=nadir[0],
        nadir_lat=nadir[1],
        altitude_km=altitude_km,
        tilt_deg=tilt_deg,
        azimuth_deg=azimuth,
        roll_deg=roll_deg,
        focal_length_mm=focal_length_mm,
        width_px=size_px[0],
        height_px=size_px[1],
    )
