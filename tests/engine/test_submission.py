"""Submissions are parsed, never executed, in the grader; notebooks keep only definitions."""
from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from grader.errors import LoadFailure
from grader.submission import prepare


def write_notebook(path, cells):
    notebook = new_notebook()
    notebook.cells = cells
    nbformat.write(notebook, path)
    return path


def test_notebook_keeps_definitions_and_settings_and_skips_the_rest(tmp_path):
    path = write_notebook(tmp_path / "nb.ipynb", [
        new_markdown_cell("# 실습"),
        new_code_cell("%matplotlib inline\n!pip install torch\nimport torch\nfrom torch import nn"),
        new_code_cell("latent_dim = 20\nshape = (1, 28, 28)\ndevice = torch.device('cuda' if torch.cuda.is_available() else 'cpu')"),
        new_code_cell("data = datasets.MNIST('./data', download=True)\nfor epoch in range(10):\n    train()\nplt.show()"),
        new_code_cell("@torch.no_grad()\ndef f(x):\n    return x * latent_dim\n\nclass M(nn.Module):\n    pass"),
        new_code_cell("def broken(:\n    pass"),
    ])
    prepared = prepare(path)
    source = prepared.source
    for kept in ("import torch", "latent_dim = 20", "shape = (1, 28, 28)", "device = torch.device", "@torch.no_grad()",
                 "def f(x):", "class M(nn.Module):"):
        assert kept in source
    for skipped in ("MNIST", "for epoch", "plt.show", "pip install", "%matplotlib", "broken"):
        assert skipped not in source
    summaries = [s.summary for s in prepared.skipped]
    assert any("MNIST" in s for s in summaries) and any("for epoch" in s for s in summaries)
    assert any("syntax error" in s for s in summaries)
    # line numbers map back to the cell as the student sees it (markdown cells count)
    line = source.splitlines().index("def f(x):") + 1
    assert prepared.where(line) == "cell 5, line 2"


def test_python_file_is_taken_whole(tmp_path):
    path = tmp_path / "s.py"
    path.write_text("x = train()\n")
    assert prepare(path).source == "x = train()\n"


@pytest.mark.parametrize(("source", "kind"), [
    ("def f(:\n", "syntax"),
    ("import reference.vae\n", "forbidden-import"),
    ("from reference import vae\n", "forbidden-import"),
    ("import importlib\nm = importlib.import_module('reference.gan')\n", "forbidden-import"),
    ("m = __import__('reference')\n", "forbidden-import"),
])
def test_unloadable_sources(tmp_path, source, kind):
    path = tmp_path / "s.py"
    path.write_text(source)
    with pytest.raises(LoadFailure) as info:
        prepare(path)
    assert info.value.kind == kind


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(LoadFailure) as info:
        prepare(tmp_path / "none.py")
    assert info.value.kind == "missing"
    bad = tmp_path / "bad.ipynb"
    bad.write_text("{not json")
    with pytest.raises(LoadFailure) as info:
        prepare(bad)
    assert info.value.kind == "unreadable"


def test_notebook_keeps_loss_module_globals(tmp_path):
    path = write_notebook(tmp_path / "nb.ipynb", [
        new_code_cell("import torch.nn as nn\nadversarial_loss = nn.BCEWithLogitsLoss()\nmodel = Net()\n"
                      "crit = torch.nn.MSELoss(reduction='sum')\nloader = DataLoader(data)"),
    ])
    source = prepare(path).source
    assert "adversarial_loss = nn.BCEWithLogitsLoss()" in source and "torch.nn.MSELoss" in source
    assert "Net()" not in source and "DataLoader" not in source


def test_notebook_drops_imports_only_skipped_code_uses(tmp_path):
    path = write_notebook(tmp_path / "nb.ipynb", [
        new_code_cell("import torch\nimport matplotlib.pyplot as plt\nfrom torchvision import datasets, transforms\n"
                      "import numpy as np\nfrom math import *"),
        new_code_cell("def f(x):\n    return np.asarray(torch.as_tensor(x))"),
        new_code_cell("data = datasets.MNIST('.', transform=transforms.ToTensor())\nplt.imshow(data[0][0])"),
    ])
    prepared = prepare(path)
    assert "import torch" in prepared.source and "import numpy as np" in prepared.source
    assert "from math import *" in prepared.source
    assert "matplotlib" not in prepared.source and "torchvision" not in prepared.source
    assert [s.cell for s in prepared.skipped] == sorted(s.cell for s in prepared.skipped)
    assert any("matplotlib" in s.summary for s in prepared.skipped)
