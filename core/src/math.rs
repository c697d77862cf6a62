//! Small fixed-size vector and matrix helpers (f32, stack only).
//!
//! The core needs only 3-vectors, 3x3 rotations and a symmetric 2x2 eigen
//! decomposition, so these few functions replace a linear-algebra crate and keep
//! the embedded build small.

/// A 3-vector.
pub type Vec3 = [f32; 3];
/// A 3x3 matrix, row-major.
pub type Mat3 = [[f32; 3]; 3];

pub const IDENTITY: Mat3 = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];

#[inline]
pub fn add(a: Vec3, b: Vec3) -> Vec3 {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}

#[inline]
pub fn sub(a: Vec3, b: Vec3) -> Vec3 {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

#[inline]
pub fn scale(a: Vec3, k: f32) -> Vec3 {
    [a[0] * k, a[1] * k, a[2] * k]
}

#[inline]
pub fn dot(a: Vec3, b: Vec3) -> f32 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

#[inline]
pub fn cross(a: Vec3, b: Vec3) -> Vec3 {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

#[inline]
pub fn norm(a: Vec3) -> f32 {
    libm::sqrtf(dot(a, a))
}

/// Unit vector along `a`, or `None` when `a` is (nearly) zero or not finite.
#[inline]
pub fn normalize(a: Vec3) -> Option<Vec3> {
    let n = norm(a);
    if n.is_finite() && n > 1e-9 {
        Some(scale(a, 1.0 / n))
    } else {
        None
    }
}

/// Component of `a` perpendicular to the unit vector `u`.
#[inline]
pub fn reject(a: Vec3, u: Vec3) -> Vec3 {
    sub(a, scale(u, dot(a, u)))
}

#[inline]
pub fn mat_vec(m: &Mat3, v: Vec3) -> Vec3 {
    [dot(m[0], v), dot(m[1], v), dot(m[2], v)]
}

/// `a b` for row-major 3x3 matrices.
pub fn mat_mul(a: &Mat3, b: &Mat3) -> Mat3 {
    core::array::from_fn(|r| {
        core::array::from_fn(|c| a[r][0] * b[0][c] + a[r][1] * b[1][c] + a[r][2] * b[2][c])
    })
}

/// `m^T` (the inverse of a rotation).
pub fn transpose(m: &Mat3) -> Mat3 {
    core::array::from_fn(|i| core::array::from_fn(|j| m[j][i]))
}

pub(crate) use wide::f32x4;

/// `v` in four SIMD lanes, `w` in the fourth. The per-sample arithmetic of
/// the pipeline works on [`f32x4`] so that an operation on all three axes is
/// one vector instruction (SSE on x86_64, NEON on aarch64; plain arrays where
/// there is no SIMD, as on thumbv7em); each lane rounds exactly as the scalar
/// 3-vector code does.
#[inline]
pub(crate) fn lanes(v: Vec3, w: f32) -> f32x4 {
    f32x4::new([v[0], v[1], v[2], w])
}

/// The first three lanes.
#[inline]
pub(crate) fn xyz(a: f32x4) -> Vec3 {
    let [x, y, z, _] = a.to_array();
    [x, y, z]
}

/// A 3x3 matrix kept as three columns in SIMD lanes, for the product with a
/// vector once per sample: `m · v = c0 v0 + c1 v1 + c2 v2` is three
/// broadcast multiply-adds. Every row sums its three terms in the same order
/// as [`mat_vec`]'s dot products, so the result is bit for bit the same.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Columns([f32x4; 3]);

impl Columns {
    /// The columns of the row-major `m`.
    pub fn from_rows(m: &Mat3) -> Self {
        Self(core::array::from_fn(|c| {
            f32x4::new([m[0][c], m[1][c], m[2][c], 0.0])
        }))
    }

    /// `m · v`, the fourth lane zero.
    #[inline]
    pub(crate) fn mul(&self, v: Vec3) -> f32x4 {
        let [c0, c1, c2] = self.0;
        c0 * f32x4::splat(v[0]) + c1 * f32x4::splat(v[1]) + c2 * f32x4::splat(v[2])
    }
}

/// Angle between two vectors in radians (0 when either is zero).
pub fn angle_between(a: Vec3, b: Vec3) -> f32 {
    let c = cross(a, b);
    libm::atan2f(norm(c), dot(a, b))
}

/// `v` turned by `angle_rad` about the unit `axis` (right-handed; Rodrigues).
pub fn rotate_about(v: Vec3, axis: Vec3, angle_rad: f32) -> Vec3 {
    let (s, c) = (libm::sinf(angle_rad), libm::cosf(angle_rad));
    add(
        add(scale(v, c), scale(cross(axis, v), s)),
        scale(axis, dot(axis, v) * (1.0 - c)),
    )
}

/// Any unit vector perpendicular to the unit vector `u`.
pub fn any_perpendicular(u: Vec3) -> Vec3 {
    // Cross with the axis least aligned with u, which is never parallel to it.
    let ax = [u[0].abs(), u[1].abs(), u[2].abs()];
    let helper = if ax[0] <= ax[1] && ax[0] <= ax[2] {
        [1.0, 0.0, 0.0]
    } else if ax[1] <= ax[2] {
        [0.0, 1.0, 0.0]
    } else {
        [0.0, 0.0, 1.0]
    };
    normalize(cross(u, helper)).unwrap_or([1.0, 0.0, 0.0])
}

/// Symmetric 3x3 matrix stored as its six distinct entries
/// `[xx, yy, zz, xy, xz, yz]`; used to accumulate second moments.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Sym3(pub [f32; 6]);

impl Sym3 {
    /// Adds `w * v v^T`.
    #[inline]
    pub fn add_outer(&mut self, v: Vec3, w: f32) {
        let m = &mut self.0;
        m[0] += w * v[0] * v[0];
        m[1] += w * v[1] * v[1];
        m[2] += w * v[2] * v[2];
        m[3] += w * v[0] * v[1];
        m[4] += w * v[0] * v[2];
        m[5] += w * v[1] * v[2];
    }

    /// Multiplies every entry by `k` (exponential forgetting).
    #[inline]
    pub fn scale(&mut self, k: f32) {
        for x in &mut self.0 {
            *x *= k;
        }
    }

    /// The quadratic form `a^T M b`.
    pub fn form(&self, a: Vec3, b: Vec3) -> f32 {
        let m = &self.0;
        let mb = [
            m[0] * b[0] + m[3] * b[1] + m[4] * b[2],
            m[3] * b[0] + m[1] * b[1] + m[5] * b[2],
            m[4] * b[0] + m[5] * b[1] + m[2] * b[2],
        ];
        dot(a, mb)
    }
}

/// Principal axis of a symmetric 2x2 matrix `[[a, b], [b, c]]`.
///
/// Returns `(angle_rad, lambda_max, lambda_min)` where the eigenvector of the
/// largest eigenvalue is `(cos angle, sin angle)`.
pub fn principal_axis_2x2(a: f32, b: f32, c: f32) -> (f32, f32, f32) {
    let angle = 0.5 * libm::atan2f(2.0 * b, a - c);
    let mean = 0.5 * (a + c);
    let half_diff = libm::sqrtf(0.25 * (a - c) * (a - c) + b * b);
    (angle, mean + half_diff, mean - half_diff)
}

/// Rotation matrix from Z-Y-X Euler angles: `R = Rz(yaw) Ry(pitch) Rx(roll)`.
pub fn rotation_from_euler(roll_rad: f32, pitch_rad: f32, yaw_rad: f32) -> Mat3 {
    let (sr, cr) = (libm::sinf(roll_rad), libm::cosf(roll_rad));
    let (sp, cp) = (libm::sinf(pitch_rad), libm::cosf(pitch_rad));
    let (sy, cy) = (libm::sinf(yaw_rad), libm::cosf(yaw_rad));
    [
        [cy * cp, cy * sp * sr - sy * cr, cy * sp * cr + sy * sr],
        [sy * cp, sy * sp * sr + cy * cr, sy * sp * cr - cy * sr],
        [-sp, cp * sr, cp * cr],
    ]
}

/// Z-Y-X Euler angles `(roll, pitch, yaw)` in radians of a rotation matrix, the
/// inverse of [`rotation_from_euler`]. At pitch = ±90° (gimbal lock) roll is set
/// to zero and yaw carries the remaining rotation.
pub fn euler_from_rotation(m: &Mat3) -> (f32, f32, f32) {
    let sp = (-m[2][0]).clamp(-1.0, 1.0);
    let pitch = libm::asinf(sp);
    if sp.abs() > 0.999_999 {
        let yaw = libm::atan2f(-m[0][1], m[1][1]);
        (0.0, pitch, yaw)
    } else {
        let roll = libm::atan2f(m[2][1], m[2][2]);
        let yaw = libm::atan2f(m[1][0], m[0][0]);
        (roll, pitch, yaw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f32, b: f32, tol: f32) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn euler_round_trip() {
        for &(r, p, y) in &[(0.1, -0.4, 2.0), (-2.5, 0.3, -1.0), (1.2, 1.1, 0.2)] {
            let m = rotation_from_euler(r, p, y);
            let (r2, p2, y2) = euler_from_rotation(&m);
            assert!(close(r, r2, 1e-5) && close(p, p2, 1e-5) && close(y, y2, 1e-5));
        }
    }

    #[test]
    fn euler_gimbal_lock_keeps_the_rotation() {
        let m = rotation_from_euler(0.4, core::f32::consts::FRAC_PI_2, 1.0);
        let (r, p, y) = euler_from_rotation(&m);
        let m2 = rotation_from_euler(r, p, y);
        for i in 0..3 {
            for j in 0..3 {
                assert!(close(m[i][j], m2[i][j], 1e-3), "{m:?} vs {m2:?}");
            }
        }
    }

    #[test]
    fn principal_axis_of_a_diagonal_and_a_rotated_matrix() {
        let (a, l1, l2) = principal_axis_2x2(4.0, 0.0, 1.0);
        assert!(close(a, 0.0, 1e-6) && close(l1, 4.0, 1e-6) && close(l2, 1.0, 1e-6));
        // Axis at 30 degrees: v v^T * 5 + small isotropic part.
        let t = 30f32.to_radians();
        let (c, s) = (t.cos(), t.sin());
        let (a, _, _) = principal_axis_2x2(5.0 * c * c + 0.1, 5.0 * c * s, 5.0 * s * s + 0.1);
        assert!(close(a, t, 1e-5));
    }

    #[test]
    fn columns_multiply_exactly_as_rows_do() {
        let m = rotation_from_euler(0.3, -1.2, 2.9);
        let c = Columns::from_rows(&m);
        for v in [[0.1, -9.7, 3.3], [1e-3, 4.0, -0.25], [15.9, -15.9, 0.0]] {
            let a = c.mul(v);
            let bits = |v: Vec3| v.map(f32::to_bits);
            assert_eq!(bits(xyz(a)), bits(mat_vec(&m, v)), "bit for bit");
            assert_eq!(a.to_array()[3].to_bits(), 0.0f32.to_bits());
        }
    }

    #[test]
    fn perpendicular_is_perpendicular() {
        for u in [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.6, 0.0, 0.8]] {
            let p = any_perpendicular(u);
            assert!(close(dot(p, u), 0.0, 1e-6) && close(norm(p), 1.0, 1e-6));
        }
    }
}
