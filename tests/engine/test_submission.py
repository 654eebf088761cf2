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
    assert [(c.number, c.kinds, c.syntax_error) for c in prepared.skipped] == [
        (3, ("training", "data", "plots"), ""), (5, (), "line 1: invalid syntax")]
    # line numbers map back to the cell as notebook interfaces number it (code cells only)
    line = source.splitlines().index("def f(x):") + 1
    assert prepared.where(line) == "code cell 4, line 2"


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
    assert [(c.number, c.first_line, c.kinds) for c in prepared.skipped] == [
        (3, "data = datasets.MNIST('.', transform=transforms.ToTensor())", ("data", "plots"))]
    assert prepared.unused_imports == 2  # matplotlib and torchvision: counted, never listed


LECTURE_NOTEBOOK = [
    new_markdown_cell("# Lab 7: variational autoencoders"),
    new_code_cell("import torch\nfrom torch import nn\nimport torch.nn.functional as F\n"
                  "from torchvision import datasets, transforms\nimport matplotlib.pyplot as plt"),
    new_code_cell("BATCH_SIZE = 128\nEPOCHS = 10\ndevice = torch.device('cuda' if torch.cuda.is_available() else 'cpu')"),
    new_markdown_cell("## The model"),
    new_code_cell("class VAE(nn.Module):\n    def __init__(self, input_dim=784):\n        super().__init__()\n"
                  "        self.fc = nn.Linear(input_dim, 20)"),
    new_code_cell("def loss_function(recon, x, mu, logvar):\n"
                  "    return F.binary_cross_entropy(recon, x, reduction='sum')"),
    new_markdown_cell("## Training"),
    new_code_cell("# MNIST, downloaded once\ntrain_loader = torch.utils.data.DataLoader(\n"
                  "    datasets.MNIST('data', train=True, download=True, transform=transforms.ToTensor()),\n"
                  "    batch_size=BATCH_SIZE, shuffle=True)"),
    new_code_cell("model = VAE().to(device)\noptimizer = torch.optim.Adam(model.parameters(), lr=1e-3)"),
    new_code_cell("for epoch in range(1, EPOCHS + 1):\n    for x, _ in train_loader:\n        optimizer.zero_grad()\n"
                  "        loss = loss_function(*model(x), x)\n        loss.backward()\n        optimizer.step()\n"
                  "    print(epoch, loss.item())"),
    new_code_cell("with torch.no_grad():\n    samples = model.decode(torch.randn(16, 20)).cpu()\n"
                  "fig, axes = plt.subplots(2, 8, figsize=(12, 3))\nfor ax, image in zip(axes.flat, samples):\n"
                  "    ax.imshow(image.view(28, 28), cmap='gray')\n    ax.axis('off')\nplt.tight_layout()\n"
                  "plt.savefig('samples.png')\nplt.show()\nprint('saved')\nprint(samples.shape)"),
    new_code_cell("print(model)"),
    new_code_cell("def sample(model, n:\n    pass"),
]


@pytest.mark.parametrize("lang, expected", [
    ("en", ["code cell 5 (`train_loader = torch.utils.data.DataLoader(`): data loading",
            "code cell 6 (`model = VAE().to(device)`): objects made at the top level (model, optimizer, data)",
            "code cell 7 (`for epoch in range(1, EPOCHS + 1):`): training loop",
            "code cell 8 (`with torch.no_grad():`): plots",
            "code cell 9 (`print(model)`): printing",
            "code cell 10 (`def sample(model, n:`) does not parse (line 1: '(' was never closed): nothing in it ran, "
            "so what it defines is missing",
            "imports only these cells use: 2"]),
    ("ko", ["코드 셀 5 (`train_loader = torch.utils.data.DataLoader(`): 데이터 불러오기",
            "코드 셀 6 (`model = VAE().to(device)`): 최상위에서 만드는 객체 (모델, 옵티마이저, 데이터)",
            "코드 셀 7 (`for epoch in range(1, EPOCHS + 1):`): 학습 루프",
            "코드 셀 8 (`with torch.no_grad():`): 그림 그리기",
            "코드 셀 9 (`print(model)`): 출력",
            "코드 셀 10 (`def sample(model, n:`): 문법 오류로 읽을 수 없습니다 (line 1: '(' was never closed). "
            "셀 전체가 실행되지 않았으므로 이 셀에서 정의한 내용은 채점에 없습니다",
            "이 셀들에서만 쓰는 import 문: 2개"]),
])
def test_lecture_notebook_report_one_line_per_left_out_cell(tmp_path, lang, expected):
    """Numbered as notebook interfaces number code cells; a plot cell of 11 lines is one line; the unused
    imports (torchvision, matplotlib) are counted, and `import torch.nn.functional as F`, which the kept
    loss uses, is neither listed nor counted."""
    prepared = prepare(write_notebook(tmp_path / "lab.ipynb", LECTURE_NOTEBOOK))
    assert prepared.report_lines(lang) == expected
    assert "import torch.nn.functional as F" in prepared.source and "class VAE" in prepared.source
    assert "EPOCHS = 10" in prepared.source and "DataLoader" not in prepared.source
