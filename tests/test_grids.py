import numpy as np
import torch
from PIL import Image

from bsd.grids import image_grid, save_png, stack_panels


def test_grid_places_each_image_in_its_cell():
    imgs = torch.zeros(5, 1, 4, 4)
    imgs[3] = 1.0  # fourth image white: row 1, column 0 with nrow=3
    g = image_grid(imgs, nrow=3, pad=1, value=0.0)
    assert g.shape == (2 * 5 + 1, 3 * 5 + 1) and g.dtype == np.uint8
    assert (g[6:10, 1:5] == 255).all() and g.sum() == 16 * 255


def test_panels_stack_and_png_round_trips(tmp_path):
    a = image_grid(torch.rand(8, 1, 6, 6), nrow=8)
    b = image_grid(torch.rand(4, 1, 6, 6), nrow=4)
    p = stack_panels([a, b])
    assert p.shape[1] == a.shape[1] and p.shape[0] == a.shape[0] + b.shape[0] + 4
    path = save_png(tmp_path / "sub" / "g.png", p)
    assert np.array_equal(np.asarray(Image.open(path)), p)
    assert not list((tmp_path / "sub").glob(".*tmp"))  # written atomically, no leftovers
