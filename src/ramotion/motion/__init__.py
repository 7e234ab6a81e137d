"""The motion representation: HumanML3D features, kinematics, normalisation, mirroring."""

from .features import check_joints, features_to_joints, joints_to_features, recover_root
from .kinematics import forward_kinematics, inverse_kinematics, retarget

__all__ = [
    "check_joints",
    "features_to_joints",
    "forward_kinematics",
    "inverse_kinematics",
    "joints_to_features",
    "recover_root",
    "retarget",
]
