"""Motion-capture formats in and out: readers (BVH, ASF/AMC), skeleton presets that place the
22 HumanML3D joints, caption grammars for labelled mocap, and the mocap corpus builder."""
