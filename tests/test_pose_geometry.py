"""BlazePose geometry on hand-computed cases."""

import math

import numpy as np
import pytest

from appliance.pose import geometry as g


def test_anchor_layout_matches_the_detector():
    a = g.ssd_anchor_centers()
    assert a.shape == (2254, 2)  # 28·28·2 + 14·14·2 + 7·7·6
    np.testing.assert_allclose(a[0], [0.5 / 28, 0.5 / 28])
    np.testing.assert_allclose(a[1], a[0])  # two anchors per cell on the stride-8 map
    np.testing.assert_allclose(a[2], [1.5 / 28, 0.5 / 28])
    np.testing.assert_allclose(a[1568], [0.5 / 14, 0.5 / 14])  # first cell of the stride-16 map
    np.testing.assert_allclose(a[-6:], np.tile([6.5 / 7, 6.5 / 7], (6, 1)))  # three merged stride-32 layers


def test_decode_applies_anchor_offsets_and_sigmoid():
    anchors = np.array([[0.25, 0.75]], np.float32)
    raw = np.zeros((1, 12), np.float32)
    raw[0, :4] = [22.4, -22.4, 44.8, 22.4]  # dx=+0.1, dy=-0.1, w=0.2, h=0.1 in 224-px units
    raw[0, 4:6] = [11.2, 0.0]  # keypoint 0 at anchor + (0.05, 0)
    det = g.decode_detections(raw, np.array([[0.0]]), anchors, min_score=0.4)
    assert len(det) == 1 and det[0].score == pytest.approx(0.5)
    np.testing.assert_allclose(det[0].box, [0.25, 0.6, 0.45, 0.7], atol=1e-6)
    np.testing.assert_allclose(det[0].keypoints[0], [0.3, 0.75], atol=1e-6)
    assert g.decode_detections(raw, np.array([[-1.0]]), anchors, min_score=0.5) == []


def test_weighted_nms_averages_overlaps_and_keeps_separate_people():
    kp = np.zeros((4, 2))
    a = g.Detection(0.9, np.array([0.0, 0.0, 1.0, 1.0]), kp)
    b = g.Detection(0.3, np.array([0.1, 0.0, 1.1, 1.0]), kp + 1)
    far = g.Detection(0.8, np.array([2.0, 2.0, 3.0, 3.0]), kp)
    out = g.weighted_nms([b, far, a])
    assert [d.score for d in out] == [0.9, 0.8]
    np.testing.assert_allclose(out[0].box, [0.025, 0, 1.025, 1.0])  # (0.9·0 + 0.3·0.1) / 1.2
    np.testing.assert_allclose(out[0].keypoints, np.full((4, 2), 0.25))


def test_roi_from_alignment_points_upright_and_tilted():
    upright = g.roi_from_alignment_points((100, 200), (100, 120))
    assert upright.angle == pytest.approx(0.0)
    assert upright.size == pytest.approx(2 * 80 * 1.25)
    assert (upright.cx, upright.cy) == (100, 200)
    # Body axis leaning 30° to the right of vertical: the crop turns 30° clockwise.
    tip = (100 + 80 * math.sin(math.radians(30)), 200 - 80 * math.cos(math.radians(30)))
    tilted = g.roi_from_alignment_points((100, 200), tip)
    assert tilted.angle == pytest.approx(math.radians(30))
    # Upside down: ±180°.
    assert abs(g.roi_from_alignment_points((0, 0), (0, 50)).angle) == pytest.approx(math.pi)


@pytest.mark.parametrize("angle", [0.0, 0.4, -1.2, 3.0])
def test_roi_projection_round_trip_and_matches_the_crop_matrix(angle):
    roi = g.Roi(320.0, 240.0, 300.0, angle)
    crop_pts = np.array([[0.0, 0.0], [1.0, 0.0], [0.5, 0.5], [0.2, 0.9]])
    img = roi.project(crop_pts)
    np.testing.assert_allclose(roi.unproject(img), crop_pts, atol=1e-9)
    m = roi.crop_to_image(256)
    via_matrix = (m[:, :2] @ (crop_pts * 256).T).T + m[:, 2]
    np.testing.assert_allclose(via_matrix, img, atol=1e-9)
    np.testing.assert_allclose(img[2], [320, 240])  # the crop's centre is the ROI's centre
    side = np.linalg.norm(img[1] - img[0])
    assert side == pytest.approx(300.0)


@pytest.mark.parametrize("w,h", [(640, 480), (480, 640), (224, 224), (1920, 1080)])
def test_letterbox_round_trip(w, h):
    lb = g.Letterbox(w, h, 224)
    pts = np.array([[0.0, 0.0], [w, h], [w / 3, h / 5]])
    m = lb.matrix()
    tensor = (m[:, :2] @ pts.T).T + m[:, 2]
    assert tensor.min() >= -1e-9 and tensor.max() <= 224 + 1e-9
    np.testing.assert_allclose(lb.to_image(tensor / 224), pts, atol=1e-9)


def _refine_by_hand(xy, heatmap):
    hh, hw, k = heatmap.shape
    out = xy.copy()
    for i in range(len(xy)):
        c, r = int(xy[i, 0] * hw), int(xy[i, 1] * hh)
        if not (0 <= c < hw and 0 <= r < hh):
            continue
        s = wc = wr = mx = 0.0
        for row in range(max(0, r - 3), min(hh, r + 4)):
            for col in range(max(0, c - 3), min(hw, c + 4)):
                conf = 1 / (1 + math.exp(-heatmap[row, col, i]))
                s += conf
                mx = max(mx, conf)
                wc += col * conf
                wr += row * conf
        if mx >= 0.5 and s > 0:
            out[i] = (wc / hw / s, wr / hh / s)
    return out


def test_heatmap_refinement_matches_the_definition():
    rng = np.random.default_rng(1)
    heatmap = rng.normal(-3, 2, (64, 64, 6)).astype(np.float32)
    heatmap[10, 20, 0] = 8.0  # a confident peak near landmark 0
    xy = np.array([[20.5 / 64, 11.5 / 64], [0.0, 0.0], [0.999, 0.999], [0.5, 0.5], [1.2, 0.5], [0.03, 0.97]])
    np.testing.assert_allclose(g.refine_from_heatmap(xy, heatmap), _refine_by_hand(xy, heatmap), atol=1e-6)
    # A confident single peak pulls the landmark towards it.
    assert abs(g.refine_from_heatmap(xy, heatmap)[0, 0] - 20 / 64) < abs(xy[0, 0] - 20 / 64)
