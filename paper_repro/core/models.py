"""Models of the four papers: bias-free MLPs with chosen init, AlexNet-like, LeNet and a small VGG."""
from __future__ import annotations

import math

import torch
from torch import nn

from .config import check_choice, check_positive, check_positive_all

ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh}
INITS = ("kaiming", "glorot", "standard")


def _init_linear(layer: nn.Module, init: str) -> None:
    """Initialise one layer: kaiming (He), glorot (Xavier) or standard (N(0,1)/sqrt(fan_in))."""
    if init == "kaiming":
        nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
    elif init == "glorot":
        nn.init.xavier_uniform_(layer.weight)
    else:
        fan_in = layer.weight[0].numel()
        nn.init.normal_(layer.weight, 0.0, 1.0 / math.sqrt(fan_in))
    if layer.bias is not None:
        nn.init.zeros_(layer.bias)


def mlp(in_dim: int, widths: list[int], out_dim: int, *, bias: bool = False, activation: str = "relu",
        init: str = "kaiming") -> nn.Sequential:
    """Fully connected net x -> (Linear, act) * len(widths) -> Linear; flattens its input."""
    check_positive("in_dim", in_dim, integer=True)
    check_positive("out_dim", out_dim, integer=True)
    if widths:
        check_positive_all("widths", widths, integer=True)
    check_choice("activation", activation, ACTIVATIONS)
    check_choice("init", init, INITS)
    layers: list[nn.Module] = [nn.Flatten()]
    dims = [in_dim, *widths]
    for a, b in zip(dims[:-1], dims[1:]):
        layers += [nn.Linear(a, b, bias=bias), ACTIVATIONS[activation]()]
    layers.append(nn.Linear(dims[-1], out_dim, bias=bias))
    for layer in layers:
        if isinstance(layer, nn.Linear):
            _init_linear(layer, init)
    return nn.Sequential(*layers)


def alexnet_like(ch: int = 64, in_channels: int = 3, n_classes: int = 10, image_size: int = 32,
                 dropout: float = 0.5) -> nn.Sequential:
    """The released AlexNet of Simsekli et al. (2019) (models.py of umutsimsekli/sgd_tail_index), same layer shapes.

    conv 4x4/2 (pad 2), maxpool 3/2, conv 5x5 (pad 2), maxpool 3/2, three conv 3x3 (pad 1), maxpool 3/2, all with
    ``ch`` channels; classifier Dropout, Linear(f, h), ReLU, Dropout, Linear(h, h), ReLU, Linear(h, classes) with
    f = ch x side x side (side = 1 at 32 x 32 inputs) and h = f * floor(1 + log2 f), as the released code.
    """
    check_positive("ch", ch, integer=True)
    features = nn.Sequential(
        nn.Conv2d(in_channels, ch, 4, stride=2, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(ch, ch, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(ch, ch, 3, padding=1), nn.ReLU(), nn.Conv2d(ch, ch, 3, padding=1), nn.ReLU(),
        nn.Conv2d(ch, ch, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2), nn.Flatten())
    with torch.no_grad():
        flat = features(torch.zeros(1, in_channels, image_size, image_size)).shape[1]
    hidden = flat * int(1 + math.log2(flat))
    return nn.Sequential(*features, nn.Dropout(dropout), nn.Linear(flat, hidden), nn.ReLU(), nn.Dropout(dropout),
                         nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, n_classes))


def lenet(in_channels: int = 1, n_classes: int = 10, image_size: int = 28) -> nn.Sequential:
    """LeNet-5 style CNN (two conv + pool stages, three linear layers)."""
    side = ((image_size - 4) // 2 - 4) // 2
    return nn.Sequential(
        nn.Conv2d(in_channels, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(16 * side * side, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, n_classes),
    )


def vgg_small(widths: tuple[int, ...] = (64, 128, 256), n_classes: int = 10, in_channels: int = 3,
              convs_per_stack: int = 3, image_size: int = 32, init: str = "glorot") -> nn.Sequential:
    """VGG-like CNN of Mori et al. (2022, Sec. 5.2): stacks of 3x3 convs, max-pooling after each, ``init`` weights.

    The paper starts from the Glorot initialisation (zero biases); ``init="torch"`` keeps PyTorch's default.
    """
    check_positive_all("widths", widths, integer=True)
    check_choice("init", init, (*INITS, "torch"))
    layers: list[nn.Module] = []
    c = in_channels
    for w in widths:
        for _ in range(convs_per_stack):
            layers += [nn.Conv2d(c, w, 3, padding=1), nn.ReLU()]
            c = w
        layers.append(nn.MaxPool2d(2))
    side = image_size // 2 ** len(widths)
    layers += [nn.Flatten(), nn.Linear(c * side * side, n_classes)]
    if init != "torch":
        for layer in layers:
            if isinstance(layer, (nn.Conv2d, nn.Linear)):
                _init_linear(layer, init)
    return nn.Sequential(*layers)


def count_params(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 4096) -> float:
    """Classification accuracy (argmax for multi-class outputs, sign for one output with y in ±1)."""
    correct = 0
    for i in range(0, len(x), batch_size):
        out = model(x[i:i + batch_size])
        yb = y[i:i + batch_size]
        pred = out.argmax(1) if out.ndim == 2 and out.shape[1] > 1 else torch.sign(out.reshape(-1))
        correct += (pred == yb.to(pred.dtype)).sum().item()
    return correct / max(len(x), 1)
