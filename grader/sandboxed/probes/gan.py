"""Worker-side helpers for the GAN rubric.

`train_step` is only observable from inside: which optimizer stepped when, what each
network's parameters and gradients were at that moment, what D saw. These probes
record exactly that with optimizer step hooks and forward hooks, and hand back raw
numbers; the checks in grader/checks/gan.py decide.
"""
from __future__ import annotations

from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import nn



def _flat(tensors: list[torch.Tensor | None], like: list[torch.Tensor]) -> torch.Tensor:
    """Concatenate gradients into one CPU vector (missing ones count as zeros)."""
    parts = [(t if t is not None else torch.zeros_like(p)).detach().reshape(-1) for t, p in zip(tensors, like)]
    return torch.cat(parts).to("cpu", torch.float64) if parts else torch.zeros(0, dtype=torch.float64)


def _params(model: nn.Module) -> list[torch.Tensor]:
    return [p for p in model.parameters() if p.requires_grad]


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


class _Recorder:
    """Hooks on G, D and both optimizers that log one or more train_step calls."""

    def __init__(self, generator: nn.Module, discriminator: nn.Module, opt_g: torch.optim.Optimizer,
                 opt_d: torch.optim.Optimizer, real: torch.Tensor, with_grads: bool = True):
        self.G, self.D, self.real = generator, discriminator, real
        self.with_grads = with_grads
        self.real_rows = real.detach().reshape(real.size(0), -1)
        self.call: dict[str, Any] = {}
        self.handles = [
            generator.register_forward_hook(self._on_g),
            discriminator.register_forward_hook(self._on_d),
            opt_d.register_step_pre_hook(lambda *_: self._on_step("d", "pre")),
            opt_d.register_step_post_hook(lambda *_: self._on_step("d", "post")),
            opt_g.register_step_pre_hook(lambda *_: self._on_step("g", "pre")),
            opt_g.register_step_post_hook(lambda *_: self._on_step("g", "post")),
        ]

    def close(self) -> None:
        for handle in self.handles:
            handle.remove()

    # -- one train_step call ---------------------------------------------------------
    def begin(self) -> None:
        self.call = {"events": [], "d_calls": [], "g_calls": [], "snap": self._snapshot(), "pre": None}

    def _snapshot(self) -> tuple[torch.Tensor, torch.Tensor]:
        g = torch.cat([p.detach().reshape(-1) for p in _params(self.G)]).to("cpu", torch.float64).clone()
        d = torch.cat([p.detach().reshape(-1) for p in _params(self.D)]).to("cpu", torch.float64).clone()
        return g, d

    def _on_g(self, module: nn.Module, inputs: tuple, output: Any) -> None:
        if not self.call or not isinstance(output, torch.Tensor):
            return
        z = inputs[0] if inputs and isinstance(inputs[0], torch.Tensor) else None
        self.call["g_calls"].append({
            "phase": len(self.call["events"]),
            "z": None if z is None else z.detach().to("cpu", torch.float64).clone(),
            "z_device": None if z is None else str(z.device),
            "out": output.detach().reshape(output.size(0), -1).to("cpu", torch.float64).clone(),
        })

    def _on_d(self, module: nn.Module, inputs: tuple, output: Any) -> None:
        if not self.call or not isinstance(output, torch.Tensor) or not inputs:
            return
        x = inputs[0]
        rows = x.detach().reshape(x.size(0), -1)
        logits = output.reshape(-1)
        if logits.numel() != rows.size(0):
            return
        if rows.size(1) == self.real_rows.size(1):
            is_real = (rows[:, None, :] == self.real_rows[None, :, :]).all(-1).any(-1)
        else:
            is_real = torch.zeros(rows.size(0), dtype=torch.bool, device=rows.device)
        made_here = [c["out"] for c in self.call["g_calls"] if c["out"].size(1) == rows.size(1)]
        fake_rows = rows[~is_real].to("cpu", torch.float64)
        if made_here and fake_rows.numel():
            outs = torch.cat(made_here)
            fresh = int(((fake_rows[:, None, :] - outs[None, :, :]).abs().amax(-1) < 1e-6).any(-1).sum())
        else:
            fresh = 0
        record: dict[str, Any] = {
            "phase": len(self.call["events"]),
            "fresh_fake_rows": fresh,
            "logits": logits.detach().to("cpu", torch.float64).clone(),
            "is_real": is_real.to("cpu"),
            "input_requires_grad": bool(x.requires_grad),
        }
        if self.with_grads:
            record.update(self._loss_grads(logits, is_real))
        self.call["d_calls"].append(record)

    def _loss_grads(self, logits: torch.Tensor, is_real: torch.Tensor) -> dict[str, torch.Tensor]:
        """Gradients, w.r.t. D's and G's parameters, of the per-row loss terms summed over
        this call's real rows and fake rows; autograd.grad leaves the student's .grad alone."""
        d_params, g_params = _params(self.D), _params(self.G)
        terms = {
            "real_d": F.softplus(-logits[is_real]).sum(),   # -log sigmoid(D(x)), label 1
            "fake_d": F.softplus(logits[~is_real]).sum(),   # -log(1 - sigmoid(D(G(z)))), label 0
            "fake_g": F.softplus(-logits[~is_real]).sum(),  # non-saturating: -log sigmoid(D(G(z)))
        }
        out = {}
        for name, term in terms.items():
            if not term.requires_grad:
                out[name + "_gradD"] = _flat([None] * len(d_params), d_params)
                out[name + "_gradG"] = _flat([None] * len(g_params), g_params)
                continue
            grads = torch.autograd.grad(term, d_params + g_params, retain_graph=True, allow_unused=True)
            out[name + "_gradD"] = _flat(list(grads[:len(d_params)]), d_params)
            out[name + "_gradG"] = _flat(list(grads[len(d_params):]), g_params)
        return out

    def _on_step(self, kind: str, when: str) -> None:
        if not self.call:
            return
        snap = self._snapshot()
        if when == "pre":
            before = self.call["snap"]
            event = {
                "kind": kind,
                # parameter change since the previous step ended (or the call began)
                "moved_between_g": float((snap[0] - before[0]).abs().max()) if snap[0].numel() else 0.0,
                "moved_between_d": float((snap[1] - before[1]).abs().max()) if snap[1].numel() else 0.0,
                "grad_g": _flat([p.grad for p in _params(self.G)], _params(self.G)),
                "grad_d": _flat([p.grad for p in _params(self.D)], _params(self.D)),
            }
            self.call["pre"] = (event, snap)
        else:
            event, pre_snap = self.call["pre"]
            event["moved_g"] = float((snap[0] - pre_snap[0]).abs().max()) if snap[0].numel() else 0.0
            event["moved_d"] = float((snap[1] - pre_snap[1]).abs().max()) if snap[1].numel() else 0.0
            self.call["events"].append(event)
        self.call["snap"] = snap

    def end(self, returned: Any) -> dict[str, Any]:
        """Summarise the call: events, and the expected gradients and losses of each phase."""
        call, self.call = self.call, {}
        final = self._snapshot()
        after = call["snap"]
        summary: dict[str, Any] = {
            "events": [{k: v for k, v in e.items()} for e in call["events"]],
            "moved_after_last_step_g": float((final[0] - after[0]).abs().max()) if final[0].numel() else 0.0,
            "moved_after_last_step_d": float((final[1] - after[1]).abs().max()) if final[1].numel() else 0.0,
            "returned_type": type(returned).__name__,
            "returned_types": [type(v).__name__ for v in returned] if isinstance(returned, (tuple, list)) else [],
            "returned_values": [_number(v) for v in returned] if isinstance(returned, (tuple, list)) else [],
            "d_calls": [{"phase": c["phase"], "logits": c["logits"], "is_real": c["is_real"],
                         "input_requires_grad": c["input_requires_grad"], "fresh_fake_rows": c["fresh_fake_rows"]}
                        for c in call["d_calls"]],
            "g_calls": [{"phase": c["phase"], "z": c["z"], "z_device": c["z_device"], "out": c["out"]}
                        for c in call["g_calls"]],
        }
        if self.with_grads:
            summary["expected"] = self._expected(call)
        return summary

    def _expected(self, call: dict[str, Any]) -> dict[str, Any]:
        """What D's gradient at opt_d.step and G's at opt_g.step would be if they came
        from the mean-BCE losses of the D calls made in their phase."""
        kinds = [e["kind"] for e in call["events"]]
        d_at = kinds.index("d") if "d" in kinds else len(kinds)
        g_at = kinds.index("g") if "g" in kinds else len(kinds)
        d_phase = [c for c in call["d_calls"] if c["phase"] <= d_at]
        g_phase = [c for c in call["d_calls"] if c["phase"] > d_at and c["phase"] <= g_at] if d_at < g_at else []
        n_real = sum(int(c["is_real"].sum()) for c in d_phase)
        n_fake = sum(int((~c["is_real"]).sum()) for c in d_phase)
        n_fake_g = sum(int((~c["is_real"]).sum()) for c in g_phase)
        grad_d = sum((c["real_d_gradD"] / max(n_real, 1) + c["fake_d_gradD"] / max(n_fake, 1) for c in d_phase),
                     torch.zeros_like(_flat([None] * len(_params(self.D)), _params(self.D))))
        grad_d_on_g = sum((c["real_d_gradG"] / max(n_real, 1) + c["fake_d_gradG"] / max(n_fake, 1) for c in d_phase),
                          torch.zeros_like(_flat([None] * len(_params(self.G)), _params(self.G))))
        grad_g = sum((c["fake_g_gradG"] / max(n_fake_g, 1) for c in g_phase),
                     torch.zeros_like(_flat([None] * len(_params(self.G)), _params(self.G))))
        return {"n_real_d": n_real, "n_fake_d": n_fake, "n_fake_g": n_fake_g, "n_d_calls_g_phase": len(g_phase),
                "grad_d": grad_d, "grad_g": grad_g, "grad_d_on_g": grad_d_on_g}


def _number(value: Any) -> float | None:
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return float(value.detach())
    if isinstance(value, (int, float)):
        return float(value)
    return None


def trace_train_step(train_step: Callable[..., Any], generator: nn.Module, discriminator: nn.Module,
                     real: torch.Tensor, latent_dim: int, calls: int = 2, lr: float = 0.05) -> list[dict[str, Any]]:
    """Run the student's train_step `calls` times with plain SGD optimizers (so a step
    moves exactly the parameters that have a gradient) and record each call."""
    opt_g = torch.optim.SGD(generator.parameters(), lr=lr)
    opt_d = torch.optim.SGD(discriminator.parameters(), lr=lr)
    recorder = _Recorder(generator, discriminator, opt_g, opt_d, real)
    summaries = []
    try:
        for _ in range(calls):
            recorder.begin()
            returned = train_step(generator, discriminator, opt_g, opt_d, real, latent_dim)
            summaries.append(recorder.end(returned))
    finally:
        recorder.close()
    return summaries


def training_curve(train_step: Callable[..., Any], generator: nn.Module, discriminator: nn.Module,
                   real: torch.Tensor, latent_dim: int, steps: int, lr_g: float, lr_d: float,
                   eval_seed: int = 0) -> dict[str, list[float]]:
    """Train with Adam (lr 0 freezes a network) and after every step measure the true
    D loss and G loss on the fixed real batch and a fixed batch of latents."""
    opt_g = torch.optim.Adam(generator.parameters(), lr=lr_g, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=lr_d, betas=(0.5, 0.999))
    z = torch.randn(real.size(0), latent_dim, generator=torch.Generator().manual_seed(eval_seed)).to(real.device)

    def evaluate() -> tuple[float, float]:
        with torch.no_grad(), torch.random.fork_rng(devices=[]):
            torch.manual_seed(eval_seed)
            real_logits = discriminator(real).reshape(-1)
            fake_logits = discriminator(generator(z)).reshape(-1)
        d = F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()
        return float(d), float(F.softplus(-fake_logits).mean())

    d_losses, g_losses = [], []
    for step in range(steps + 1):
        if step:
            train_step(generator, discriminator, opt_g, opt_d, real, latent_dim)
        d, g = evaluate()
        d_losses.append(d)
        g_losses.append(g)
    return {"d_loss": d_losses, "g_loss": g_losses}


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
