"""Worker-side helpers for the GAN rubric.

What happens *inside* train_step (which optimizer stepped when, with which gradient, what D saw) is only
observable from inside the worker. The recorder below installs hooks on G, D and both optimizers between
two probe calls; the grader calls the student's train_step itself in between, like any other call. What
the recorder reports is a claim: the checks (grader/checks/gan.py) cross-check it against answers they get
themselves (G and D on probe inputs before and after, D on the inputs the recorder says it saw, the floats
train_step returned).

The recorder never builds a full gradient vector on the wire: every gradient is a sketch, its values at a
fixed random subset of parameter coordinates (a standard DCGAN has millions of parameters). It reads every
parameter, frozen or not (`requires_grad_(False)` and Lightning-style toggling change which ones take part
between steps). A failure inside a hook is kept and reported, never raised into the student's code.
It computes no loss: for each D call it reports sums of the Jacobian of the logits weighted by s(l) and by
s(-l) (s the logistic function) over real and over fake rows; the grader's oracles assemble gradients.
"""
from __future__ import annotations

from typing import Any, Callable

import torch
from torch import nn

SKETCH = 2048     # random coordinates per network: a wrong gradient differs in almost all of them
PER_TENSOR = 4    # and this many of every parameter tensor


def loss_and_grads(loss_fn: Callable[..., Any], *logits: torch.Tensor) -> dict[str, Any]:
    """Call a student loss on fresh leaf tensors and backpropagate it.

    Returns the value, what kind of object came back, and d loss / d logits for
    each argument (None where no gradient reached it)."""
    leaves = [t.detach().clone().requires_grad_(True) for t in logits]
    result = loss_fn(*leaves)
    report: dict[str, Any] = {"type": type(result).__name__, "value": None, "shape": None,
                              "requires_grad": False, "grads": [None] * len(leaves)}
    if isinstance(result, torch.Tensor):
        report.update(value=result.detach().to("cpu", torch.float64), shape=list(result.shape),
                      requires_grad=bool(result.requires_grad))
        if result.requires_grad and result.numel() == 1:
            grads = torch.autograd.grad(result.sum(), leaves, allow_unused=True)
            report["grads"] = [None if g is None else g.detach().to("cpu", torch.float64) for g in grads]
    elif isinstance(result, (int, float)):
        report["value"] = float(result)
    return report


class _Light(torch.optim.Optimizer):
    """A torch.optim.Optimizer whose methods skip the `torch._disable_dynamo` wrappers of the stock
    ones: their first call imports torch._dynamo, which costs about as much as importing torch.
    Everything train_step may use is there: zero_grad, step (with step hooks), param_groups, state."""

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        group = dict(param_group)
        params = group["params"]
        group["params"] = [params] if isinstance(params, torch.Tensor) else list(params)
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.detach_()
                    p.grad.zero_()

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    self._update(p, p.grad, group)
        return loss

    def _update(self, p: torch.Tensor, grad: torch.Tensor, group: dict[str, Any]) -> None:
        raise NotImplementedError


class SGD(_Light):
    """Plain SGD: a step moves exactly the parameters that have a gradient, by lr times it."""

    def __init__(self, params: Any, lr: float):
        super().__init__(params, {"lr": lr})

    def _update(self, p: torch.Tensor, grad: torch.Tensor, group: dict[str, Any]) -> None:
        p.add_(grad, alpha=-group["lr"])


class Adam(_Light):
    """Adam (Kingma & Ba 2015) with the DCGAN betas."""

    def __init__(self, params: Any, lr: float, betas: tuple[float, float] = (0.5, 0.999), eps: float = 1e-8):
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps})

    def _update(self, p: torch.Tensor, grad: torch.Tensor, group: dict[str, Any]) -> None:
        state = self.state[p]
        if not state:
            state.update(t=0, m=torch.zeros_like(p), v=torch.zeros_like(p))
        b1, b2 = group["betas"]
        state["t"] += 1
        state["m"].mul_(b1).add_(grad, alpha=1 - b1)
        state["v"].mul_(b2).addcmul_(grad, grad, value=1 - b2)
        m_hat = state["m"] / (1 - b1 ** state["t"])
        v_hat = state["v"] / (1 - b2 ** state["t"])
        p.sub_(group["lr"] * m_hat / (v_hat.sqrt() + group["eps"]))


def sgd_on_outputs(model: nn.Module, inputs: list[torch.Tensor], weights: list[torch.Tensor], lr: float) -> int:
    """One plain SGD step (lr) on sum_i sum(weights_i * model(inputs_i)), one forward call per input as
    the recorded calls were made: the update of any loss whose gradient with respect to those outputs
    is `weights` (the grader computes them). Returns the number of parameter tensors stepped."""
    model.zero_grad(set_to_none=True)
    total = 0.0
    for x, w in zip(inputs, weights):
        out = model(x)  # one logit per row, in whatever layout D gives them ((B, 1) or (B,))
        total = total + (out * w.to(out.device, out.dtype).reshape(out.shape)).sum()
    total.backward()
    stepped = 0
    with torch.no_grad():
        for parameter in model.parameters():
            if parameter.grad is not None:
                parameter.add_(parameter.grad, alpha=-lr)
                stepped += 1
    return stepped


def optimizers(generator: nn.Module, discriminator: nn.Module, kind: str, lr_g: float,
               lr_d: float) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer]:
    """opt_g and opt_d for the grader to hand to train_step: plain SGD or Adam."""
    make = SGD if kind == "sgd" else Adam
    return make(generator.parameters(), lr=lr_g), make(discriminator.parameters(), lr=lr_d)


class _Sketch:
    """A fixed random subset of a network's parameter coordinates (all parameters, frozen ones too)."""

    def __init__(self, model: nn.Module, seed: int, size: int = SKETCH):
        self.params = list(model.parameters())
        sizes = [p.numel() for p in self.params]
        total = sum(sizes)
        generator = torch.Generator().manual_seed(seed)
        chosen = torch.randint(max(total, 1), (min(size, total),), generator=generator)
        self.local: list[torch.Tensor] = []
        start = 0
        for n in sizes:
            # a few coordinates of every tensor, so that a gradient living in one small tensor
            # (a lone bias) is seen too, plus this tensor's share of the global random subset
            own = torch.randint(max(n, 1), (min(n, PER_TENSOR),), generator=generator)
            inside = chosen[(chosen >= start) & (chosen < start + n)] - start
            self.local.append(torch.cat([own, inside]).unique())
            start += n

    def of(self, tensors: list[torch.Tensor | None]) -> torch.Tensor:
        parts = [torch.zeros(len(idx), dtype=torch.float64) if t is None
                 else t.detach().reshape(-1)[idx.to(t.device)].to("cpu", torch.float64)
                 for t, idx in zip(tensors, self.local)]
        return torch.cat(parts) if parts else torch.zeros(0, dtype=torch.float64)

    def copy(self) -> list[torch.Tensor]:
        return [p.detach().clone() for p in self.params]

    def moved(self, before: list[torch.Tensor]) -> float:
        """Largest change of any parameter coordinate since `before` (exact, not sketched)."""
        changes = [float((p.detach() - b).abs().max()) for p, b in zip(self.params, before) if p.numel()]
        return max(changes, default=0.0)


class _Recorder:
    """Hooks on G, D and both optimizers that log one train_step call."""

    def __init__(self, generator: nn.Module, discriminator: nn.Module, opt_g: torch.optim.Optimizer,
                 opt_d: torch.optim.Optimizer, real: torch.Tensor, seed: int):
        self.G, self.D = generator, discriminator
        self.sketch_g, self.sketch_d = _Sketch(generator, seed), _Sketch(discriminator, seed + 1)
        self.real_rows = real.detach().reshape(real.size(0), -1)
        self.fault: str | None = None
        self.call: dict[str, Any] = {}
        self.handles = [
            generator.register_forward_hook(self._guard(self._on_g)),
            discriminator.register_forward_hook(self._guard(self._on_d)),
            opt_d.register_step_pre_hook(self._guard(lambda *_: self._on_step("d", "pre"))),
            opt_d.register_step_post_hook(self._guard(lambda *_: self._on_step("d", "post"))),
            opt_g.register_step_pre_hook(self._guard(lambda *_: self._on_step("g", "pre"))),
            opt_g.register_step_post_hook(self._guard(lambda *_: self._on_step("g", "post"))),
        ]

    def _guard(self, hook: Callable[..., None]) -> Callable[..., None]:
        """A hook that never raises into the student's code: the first failure is reported instead."""

        def guarded(*args: Any) -> None:
            try:
                hook(*args)
            except Exception as exc:  # the grader's own failure, reported as such by the check
                if self.fault is None:
                    self.fault = f"{type(exc).__name__}: {exc}"[:300]
        return guarded

    def close(self) -> None:
        for handle in self.handles:
            handle.remove()

    def begin(self) -> None:
        self.call = {"events": [], "d_calls": [], "g_calls": [], "pre": None,
                     "start_g": self.sketch_g.copy(), "start_d": self.sketch_d.copy()}
        self.call["last_g"], self.call["last_d"] = self.call["start_g"], self.call["start_d"]

    def _on_g(self, module: nn.Module, inputs: tuple, output: Any) -> None:
        if not self.call or not isinstance(output, torch.Tensor) or not output.dim():
            return
        z = inputs[0] if inputs and isinstance(inputs[0], torch.Tensor) else None
        self.call["g_calls"].append({
            "phase": len(self.call["events"]),
            "z": None if z is None else z.detach().to("cpu").clone(),
            "z_device": None if z is None else str(z.device),
            "out": output.detach().to("cpu").clone(),
        })

    def _on_d(self, module: nn.Module, inputs: tuple, output: Any) -> None:
        if not self.call or not isinstance(output, torch.Tensor) or not inputs or not isinstance(inputs[0], torch.Tensor):
            return
        x = inputs[0]
        if not x.dim() or output.reshape(-1).numel() != x.size(0):
            return
        rows = x.detach().reshape(x.size(0), -1)
        if rows.size(1) == self.real_rows.size(1):
            is_real = (rows[:, None, :] == self.real_rows[None, :, :]).all(-1).any(-1)
        else:
            is_real = torch.zeros(rows.size(0), dtype=torch.bool, device=rows.device)
        made_here = [c["out"].reshape(c["out"].size(0), -1) for c in self.call["g_calls"]]
        made_here = [m for m in made_here if m.size(1) == rows.size(1)]
        fake_rows = rows[~is_real].to("cpu")
        fresh = 0
        if made_here and fake_rows.numel():
            outs = torch.cat(made_here).to(fake_rows.dtype)
            fresh = int(((fake_rows[:, None, :] - outs[None, :, :]).abs().amax(-1) < 1e-6).any(-1).sum())
        logits = output.reshape(-1)
        record: dict[str, Any] = {
            "phase": len(self.call["events"]),
            "input": x.detach().to("cpu").clone(),
            "logits": logits.detach().to("cpu", torch.float64).clone(),
            "is_real": is_real.to("cpu"),
            "fresh_fake_rows": fresh,
        }
        record.update(self._jacobian_sums(logits, is_real))
        self.call["d_calls"].append(record)

    def _jacobian_sums(self, logits: torch.Tensor, is_real: torch.Tensor) -> dict[str, torch.Tensor]:
        """Sketches of sum_rows w(l) dl/dθ for D's and G's parameters: w = s(-l) over real rows, s(l) and
        s(-l) over fake rows. autograd.grad leaves the student's .grad alone; frozen parameters get zeros."""
        out: dict[str, torch.Tensor] = {}
        d_params, g_params = self.sketch_d.params, self.sketch_g.params
        live = [p for p in d_params + g_params if p.requires_grad]
        after_d = any(e["kind"] == "d" for e in self.call["events"])
        for key, rows, sign in (("real_neg", is_real, -1.0), ("fake_pos", ~is_real, 1.0), ("fake_neg", ~is_real, -1.0)):
            grads: dict[int, torch.Tensor] = {}
            # after D's step only the generator's loss can follow: the s(l) sums (D's loss) are not needed
            needed = not (after_d and key == "fake_pos")
            if needed and logits.requires_grad and bool(rows.any()) and live:
                weights = torch.where(rows, torch.sigmoid(sign * logits.detach()), torch.zeros_like(logits))
                # a scalar, not grad_outputs=weights: the latter imports sympy (seconds) on first use
                found = torch.autograd.grad((logits * weights).sum(), live, retain_graph=True, allow_unused=True)
                grads = {id(p): g for p, g in zip(live, found) if g is not None}
            out[key + "_D"] = self.sketch_d.of([grads.get(id(p)) for p in d_params])
            out[key + "_G"] = self.sketch_g.of([grads.get(id(p)) for p in g_params])
        return out

    def _on_step(self, kind: str, when: str) -> None:
        if not self.call:
            return
        call = self.call
        if when == "pre":
            event = {
                "kind": kind,
                # parameter change since the previous step ended (or the call began)
                "moved_between_g": self.sketch_g.moved(call["last_g"]),
                "moved_between_d": self.sketch_d.moved(call["last_d"]),
                "grad_g": self.sketch_g.of([p.grad for p in self.sketch_g.params]),
                "grad_d": self.sketch_d.of([p.grad for p in self.sketch_d.params]),
            }
            call["pre"] = (event, self.sketch_g.copy(), self.sketch_d.copy())
        else:
            event, before_g, before_d = call["pre"]
            event["moved_g"] = self.sketch_g.moved(before_g)
            event["moved_d"] = self.sketch_d.moved(before_d)
            call["events"].append(event)
            call["last_g"], call["last_d"] = self.sketch_g.copy(), self.sketch_d.copy()

    def end(self) -> dict[str, Any]:
        call, self.call = self.call, {}
        if not call:
            return {"fault": self.fault or "the recording was not started"}
        return {
            "events": call["events"],
            "moved_after_last_step_g": self.sketch_g.moved(call["last_g"]),
            "moved_after_last_step_d": self.sketch_d.moved(call["last_d"]),
            "moved_total_g": self.sketch_g.moved(call["start_g"]),
            "moved_total_d": self.sketch_d.moved(call["start_d"]),
            "d_calls": call["d_calls"],
            "g_calls": call["g_calls"],
            "fault": self.fault,
        }


_ACTIVE: dict[int, _Recorder] = {}


def start_recording(generator: nn.Module, discriminator: nn.Module, opt_g: torch.optim.Optimizer,
                    opt_d: torch.optim.Optimizer, real: torch.Tensor, seed: int) -> int:
    """Install the hooks for the next train_step call; returns the token stop_recording takes."""
    recorder = _Recorder(generator, discriminator, opt_g, opt_d, real, seed)
    recorder.begin()
    token = len(_ACTIVE) + 1
    _ACTIVE[token] = recorder
    return token


def stop_recording(token: int) -> dict[str, Any]:
    """Remove the hooks and report what they saw (always, also after train_step raised)."""
    recorder = _ACTIVE.pop(token, None)
    if recorder is None:
        return {"fault": "no recording with this token"}
    try:
        return recorder.end()
    finally:
        recorder.close()


def trace_sample(sample: Callable[..., Any], generator: nn.Module, n: int, latent_dim: int,
                 device: str) -> dict[str, Any]:
    """Call the student's sample twice and record the latents G received each time."""
    seen: list[dict[str, Any]] = []

    def hook(module: nn.Module, inputs: tuple, output: Any) -> None:
        z = inputs[0] if inputs and isinstance(inputs[0], torch.Tensor) else None
        if z is not None:
            seen.append({"z": z.detach().to("cpu", torch.float64).clone(), "device": str(z.device)})

    handle = generator.register_forward_hook(hook)
    try:
        first = sample(generator, n, latent_dim=latent_dim, device=device)
        second = sample(generator, n, latent_dim=latent_dim, device=device)
    finally:
        handle.remove()
    return {"outputs": [first, second], "latents": seen}
