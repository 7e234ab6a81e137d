"""Batched rotation utilities in torch: quaternions (w, x, y, z), rotation matrices,
continuous 6D, axis-angle.

Hand-written rather than taken from a rotation library because the HumanML3D
conventions decide whether features match the released data: quaternions are
(w, x, y, z), the rotation between two vectors is normalise([|u||v| + u.v, u x v]),
and 6D is the first column followed by the second column of the matrix. All
functions broadcast over leading dimensions and run on any device and dtype; the
data pipeline calls them on float64 CPU tensors, models on whatever they use.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

_EPS = 1e-12


def as_tensor(x: np.ndarray | Tensor, dtype: torch.dtype | None = None) -> Tensor:
    """A tensor view of x (numpy arrays become float64 tensors unless dtype is given)."""
    if isinstance(x, Tensor):
        return x if dtype is None else x.to(dtype)
    return torch.as_tensor(np.asarray(x), dtype=dtype or torch.float64)


def qnormalize(q: Tensor) -> Tensor:
    """Unit quaternion(s). (..., 4) -> (..., 4)"""
    return q / q.norm(dim=-1, keepdim=True).clamp_min(_EPS)


def qinv(q: Tensor) -> Tensor:
    """Inverse (conjugate) of unit quaternions. (..., 4)"""
    return q * q.new_tensor([1.0, -1.0, -1.0, -1.0])


def qmul(q: Tensor, r: Tensor) -> Tensor:
    """Hamilton product q * r. (..., 4) x (..., 4) -> (..., 4)"""
    w1, x1, y1, z1 = q.unbind(-1)
    w2, x2, y2, z2 = r.unbind(-1)
    return torch.stack(
        (
            w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
            w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
            w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
            w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2,
        ),
        dim=-1,
    )


def qrot(q: Tensor, v: Tensor) -> Tensor:
    """Rotate vectors v (..., 3) by unit quaternions q (..., 4)."""
    shape = torch.broadcast_shapes(q.shape[:-1], v.shape[:-1])
    q, v = q.expand(shape + (4,)), v.expand(shape + (3,))
    qv = q[..., 1:]
    uv = torch.linalg.cross(qv, v, dim=-1)
    uuv = torch.linalg.cross(qv, uv, dim=-1)
    return v + 2.0 * (q[..., :1] * uv + uuv)


def qbetween(u: Tensor, v: Tensor) -> Tensor:
    """Shortest rotation taking direction u to direction v. (..., 3) x (..., 3) -> (..., 4)

    normalise([|u||v| + u.v, u x v]); for opposite vectors (where that is 0/0) a
    half-turn about an axis perpendicular to u.
    """
    u, v = torch.broadcast_tensors(u, v)
    w = torch.sqrt((u * u).sum(-1, keepdim=True) * (v * v).sum(-1, keepdim=True)) + (u * v).sum(-1, keepdim=True)
    q = torch.cat((w, torch.linalg.cross(u, v, dim=-1)), dim=-1)
    norm = q.norm(dim=-1, keepdim=True)
    scale = torch.sqrt((u * u).sum(-1, keepdim=True) * (v * v).sum(-1, keepdim=True)).clamp_min(_EPS)
    degenerate = norm / scale < 1e-9
    if bool(degenerate.any()):
        # Any axis perpendicular to u: cross with x, or with y if u is along x.
        ex = torch.zeros_like(u)
        ex[..., 0] = 1.0
        ey = torch.zeros_like(u)
        ey[..., 1] = 1.0
        axis = torch.linalg.cross(u, ex, dim=-1)
        small = axis.norm(dim=-1, keepdim=True) < 1e-6 * u.norm(dim=-1, keepdim=True).clamp_min(_EPS)
        axis = torch.where(small, torch.linalg.cross(u, ey, dim=-1), axis)
        half_turn = torch.cat((torch.zeros_like(w), axis), dim=-1)
        q = torch.where(degenerate, half_turn, q)
    return qnormalize(q)


def qcanonical(q: Tensor) -> Tensor:
    """The same rotation with w >= 0."""
    return torch.where(q[..., :1] < 0, -q, q)


def qfix(q: Tensor, dim: int = 0) -> Tensor:
    """Flip signs along `dim` (time) so that consecutive quaternions have a positive dot product."""
    q = q.movedim(dim, 0)
    dots = (q[1:] * q[:-1]).sum(-1)
    flips = torch.cumsum((dots < 0).to(torch.int64), dim=0) % 2
    sign = torch.ones(q.shape[:-1], dtype=q.dtype, device=q.device)
    sign[1:] = 1.0 - 2.0 * flips.to(q.dtype)
    return (q * sign[..., None]).movedim(0, dim)


def quat_to_matrix(q: Tensor) -> Tensor:
    """Unit quaternions (..., 4) -> rotation matrices (..., 3, 3)."""
    w, x, y, z = q.unbind(-1)
    xx, yy, zz = x * x, y * y, z * z
    xy, xz, yz, wx, wy, wz = x * y, x * z, y * z, w * x, w * y, w * z
    m = torch.stack(
        (
            1 - 2 * (yy + zz), 2 * (xy - wz), 2 * (xz + wy),
            2 * (xy + wz), 1 - 2 * (xx + zz), 2 * (yz - wx),
            2 * (xz - wy), 2 * (yz + wx), 1 - 2 * (xx + yy),
        ),
        dim=-1,
    )
    return m.reshape(q.shape[:-1] + (3, 3))


def matrix_to_quat(m: Tensor) -> Tensor:
    """Rotation matrices (..., 3, 3) -> unit quaternions (..., 4) with w >= 0.

    Uses the numerically stable branch per element (largest diagonal term).
    """
    m00, m11, m22 = m[..., 0, 0], m[..., 1, 1], m[..., 2, 2]
    # 4*q_i^2 for i in (w, x, y, z); pick the largest to divide by.
    sq = torch.stack((1 + m00 + m11 + m22, 1 + m00 - m11 - m22, 1 - m00 + m11 - m22, 1 - m00 - m11 + m22), -1)
    r = torch.sqrt(sq.clamp_min(0.0))  # 2*|q_i|
    candidates = torch.stack(
        (
            torch.stack((r[..., 0] ** 2, m[..., 2, 1] - m[..., 1, 2], m[..., 0, 2] - m[..., 2, 0], m[..., 1, 0] - m[..., 0, 1]), -1),
            torch.stack((m[..., 2, 1] - m[..., 1, 2], r[..., 1] ** 2, m[..., 1, 0] + m[..., 0, 1], m[..., 0, 2] + m[..., 2, 0]), -1),
            torch.stack((m[..., 0, 2] - m[..., 2, 0], m[..., 1, 0] + m[..., 0, 1], r[..., 2] ** 2, m[..., 2, 1] + m[..., 1, 2]), -1),
            torch.stack((m[..., 1, 0] - m[..., 0, 1], m[..., 0, 2] + m[..., 2, 0], m[..., 2, 1] + m[..., 1, 2], r[..., 3] ** 2), -1),
        ),
        dim=-2,
    ) / (2.0 * r.clamp_min(1e-8))[..., None]
    best = sq.argmax(dim=-1)
    q = torch.gather(candidates, -2, best[..., None, None].expand(best.shape + (1, 4))).squeeze(-2)
    return qcanonical(qnormalize(q))


def matrix_to_cont6d(m: Tensor) -> Tensor:
    """Rotation matrices (..., 3, 3) -> continuous 6D (..., 6): first column, then second."""
    return torch.cat((m[..., :, 0], m[..., :, 1]), dim=-1)


def quat_to_cont6d(q: Tensor) -> Tensor:
    """Unit quaternions (..., 4) -> continuous 6D (..., 6)."""
    return matrix_to_cont6d(quat_to_matrix(q))


def cont6d_to_matrix(d6: Tensor) -> Tensor:
    """Continuous 6D (..., 6) -> rotation matrices (..., 3, 3) by Gram-Schmidt on the two columns."""
    a, b = d6[..., :3], d6[..., 3:]
    x = a / a.norm(dim=-1, keepdim=True).clamp_min(_EPS)
    z = torch.linalg.cross(x, b, dim=-1)
    z = z / z.norm(dim=-1, keepdim=True).clamp_min(_EPS)
    y = torch.linalg.cross(z, x, dim=-1)
    return torch.stack((x, y, z), dim=-1)


def cont6d_to_quat(d6: Tensor) -> Tensor:
    """Continuous 6D (..., 6) -> unit quaternions (..., 4)."""
    return matrix_to_quat(cont6d_to_matrix(d6))


def axis_angle_to_quat(aa: Tensor) -> Tensor:
    """Axis-angle vectors (..., 3) (direction = axis, norm = angle in radians) -> quaternions (..., 4)."""
    angle = aa.norm(dim=-1, keepdim=True)
    half = 0.5 * angle
    # sin(half)/angle, with its limit 1/2 near zero.
    k = torch.where(angle < 1e-8, 0.5 - angle * angle / 48.0, torch.sin(half) / angle.clamp_min(1e-12))
    return torch.cat((torch.cos(half), aa * k), dim=-1)


def quat_to_axis_angle(q: Tensor) -> Tensor:
    """Unit quaternions (..., 4) -> axis-angle vectors (..., 3), angle in [0, pi]."""
    q = qcanonical(q)
    sin_half = q[..., 1:].norm(dim=-1, keepdim=True)
    angle = 2.0 * torch.atan2(sin_half, q[..., :1])
    k = torch.where(sin_half < 1e-8, 2.0 + angle * angle / 12.0, angle / sin_half.clamp_min(1e-12))
    return q[..., 1:] * k


def quat_about_y(angle: Tensor) -> Tensor:
    """Rotation about +y by `angle` radians. (...) -> (..., 4)"""
    half = 0.5 * angle
    zero = torch.zeros_like(angle)
    return torch.stack((torch.cos(half), zero, torch.sin(half), zero), dim=-1)


def quat_to_euler(q: Tensor, order: str = "ZXY") -> Tensor:
    """Quaternions (..., 4) -> intrinsic Euler angles in degrees (..., 3), in `order`
    (the BVH channel order, e.g. "ZXY": R = Rz @ Rx @ Ry)."""
    from scipy.spatial.transform import Rotation  # scipy does Euler decomposition well

    flat = q.detach().cpu().double().reshape(-1, 4).numpy()
    r = Rotation.from_quat(flat[:, [1, 2, 3, 0]])  # scipy is (x, y, z, w)
    e = r.as_euler(order.upper(), degrees=True)
    return torch.as_tensor(e, dtype=q.dtype).reshape(q.shape[:-1] + (3,))


def euler_to_quat(e: Tensor, order: str = "ZXY") -> Tensor:
    """Intrinsic Euler angles in degrees (..., 3) in `order` -> quaternions (..., 4), w >= 0."""
    from scipy.spatial.transform import Rotation

    flat = e.detach().cpu().double().reshape(-1, 3).numpy()
    xyzw = Rotation.from_euler(order.upper(), flat, degrees=True).as_quat()
    q = torch.as_tensor(xyzw[:, [3, 0, 1, 2]], dtype=e.dtype).reshape(e.shape[:-1] + (4,))
    return qcanonical(q)
