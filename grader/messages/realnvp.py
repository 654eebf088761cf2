"""Feedback for the realnvp rubric, in the terms of week 10 (RealNVP and Glow)."""

EN = {
    "realnvp.not_pair":
        "{what} must return a pair (y, log_det) — every invertible layer follows the convention "
        "forward(x) -> (y, log_det); it returned a {got}.",
    "realnvp.shape":
        "{what} has shape {got}; the contract asks for {expected}.",
    "realnvp.signature.missing":
        "{name} has no parameter `{param}` (found: {found}). Use the contract's names (ASSIGNMENTS.md, realnvp).",
    "realnvp.signature.default":
        "{name}: `{param}` should default to {expected!r}; found {got!r}.",
    "realnvp.jacobian.cross_sample":
        "{what}: the output of sample {i} depends on sample {j} of the same batch (Jacobian entry {value:.3g}). "
        "A flow transforms every sample on its own, otherwise there is no per-sample log-det. "
        "Look for statistics computed from each batch (e.g. ActNorm re-estimating mean/std on every call, or BatchNorm).",
    "realnvp.logdet.shape":
        "{what}: log_det has shape {got}; it must be ({batch},), one log|det J| per sample.",
    "realnvp.logdet.batch_sum":
        "{what}: log_det is the SUM over the batch of the per-sample log-dets (got {got:.4g} with shape {shape}; "
        "the per-sample values are {per_sample}). This is the lecture's `log_det_jacobian += s.sum()`: "
        "sum only over the dimensions (e.g. `.sum(dim=1)`) so log_det has shape ({batch},).",
    "realnvp.logdet.sign":
        "{what}: log_det has the wrong sign: got {got}, log|det J| of forward is {expected}. "
        "forward maps data to the latent; for y = x * exp(s) + t its log-det is +sum(s) (and inverse would be -sum(s)).",
    "realnvp.logdet.hw_factor":
        "{what}: log_det is {hw} times too small (got {got}, expected {expected}): the H * W = {hw} factor is missing. "
        "The same per-channel transform acts at each of the H * W pixel positions, so its log-det counts H * W times.",
    "realnvp.logdet.missing_term":
        "{what}: log_det is off by {value:.4g} per sample (got {got}, expected {expected}): the term {term} is missing.",
    "realnvp.logdet.offset":
        "{what}: log_det is off by the same {offset:.4g} for every sample (got {got}, expected {expected}): "
        "a constant term is missing or extra.",
    "realnvp.logdet.value":
        "{what}: log_det differs from log|det J| (autograd Jacobian of your forward, float64, weights moved away from "
        "initialisation) by up to {worst:.3g}: got {got}, expected {expected}. Check that it sums s only over the "
        "transformed entries (mask 0), adds every layer's log-det, and uses the scale actually applied in forward.",
    "realnvp.logdet.sign.closed_form":
        "{what}: log_det has the wrong sign: got {got}, expected {expected}. Elementwise dy/dx = (1 - 2 alpha) / "
        "(p (1 - p)) with p = alpha + (1 - 2 alpha) x, so log_det = sum(log(1 - 2 alpha) - log p - log(1 - p)).",
    "realnvp.logdet.value.closed_form":
        "{what}: log_det differs from sum(log(1 - 2 alpha) - log p - log(1 - p)), p = alpha + (1 - 2 alpha) x, by up "
        "to {worst:.3g}: got {got}, expected {expected}. Sum over the D dimensions of each sample, with the alpha given.",
    "realnvp.inverse.x":
        "{what}: inverse(forward(x)) differs from x by up to {worst:.3g} (tolerance {tol:.1g}), with weights moved away "
        "from initialisation. inverse must undo forward exactly: reverse the layer order, recompute s and t from the "
        "unchanged (mask-1) entries, and use x = (y - t) * exp(-s).",
    "realnvp.inverse.z":
        "{what}: forward(inverse(z)) differs from z by up to {worst:.3g} (tolerance {tol:.1g}). inverse must be the "
        "exact inverse of forward in both directions.",
    "realnvp.coupling.kept_changed":
        "AffineCoupling with mask {mask} changed entries where the mask is 1 (positions {positions}, by up to "
        "{worst:.3g}). Entries with mask 1 must pass through unchanged; they only condition the others. Use the mask "
        "given to the constructor (not the lecture's x.chunk(2)) when you build y.",
    "realnvp.coupling.free_unchanged":
        "AffineCoupling with mask {mask} left the mask-0 entries unchanged even with its weights moved away from "
        "initialisation: y = x * exp(s) + t must be applied there.",
    "realnvp.coupling.sees_free":
        "AffineCoupling with mask {mask}: output {out} (mask 0) depends on input {inp} (also mask 0), Jacobian entry "
        "{value:.3g}. The scale and shift networks must only see the unchanged entries, x * mask; otherwise the "
        "Jacobian is not triangular, sum(s) is not the log-det and inverse cannot recompute s and t.",
    "realnvp.coupling.unconditioned":
        "AffineCoupling with mask {mask}: the mask-0 outputs do not depend on any mask-1 input, so the scale and shift "
        "are not conditioned on the unchanged entries. Feed x * mask to the scale and shift networks.",
    "realnvp.every_dim":
        "RealNVP(dim={dim}, n_layers={layers}): dimensions {rows} of z equal the input (dz_i/dx = e_i: no coupling "
        "transforms them) and dimensions {cols} of x never influence another dimension. The masks must alternate "
        "between layers (m, 1 - m, m, ...); the lecture's code keeps the same half fixed in every layer.",
    "realnvp.log_prob.constant":
        "RealNVP.log_prob is {offset:.4g} too high for every sample = D/2 * log(2 pi) with D = {dim}: the normalising "
        "constant of the standard normal, -D/2 * log(2 pi), is missing. Got {got}, expected {expected}.",
    "realnvp.log_prob.no_log_det":
        "RealNVP.log_prob is the base log-density of z alone (got {got}, expected {expected}): add the log_det of "
        "forward (change of variables: log p(x) = log N(z; 0, I) + log|det dz/dx|).",
    "realnvp.log_prob.log_det_sign":
        "RealNVP.log_prob subtracts log_det (got {got}, expected {expected}); the change of variables adds the "
        "log-det of forward: log p(x) = log N(z; 0, I) + log_det.",
    "realnvp.log_prob.mean_over_dims":
        "RealNVP.log_prob averages the base log-density over dimensions (got {got}, expected {expected}); "
        "log N(z; 0, I) is a sum over the D dimensions.",
    "realnvp.log_prob.value":
        "RealNVP.log_prob differs from -|z|^2/2 - D/2 log(2 pi) + log_det (computed from your own forward) by up to "
        "{worst:.3g}: got {got}, expected {expected}.",
    "realnvp.sample.nonfinite":
        "forward(sample(n)) contains NaN or inf: sample does not produce points that forward can map back.",
    "realnvp.sample.distribution":
        "forward(sample({n})) should be exactly the standard normal noise that sample drew, but it is not N(0, I): "
        "coordinate {k} has mean {mean:.3f} and std {std:.3f} (KS p = {p:.2g}); the mean of |z|^2 is {norm:.2f} "
        "(expected {dim}, KS p = {p_norm:.2g}). sample must draw z ~ torch.randn(n, dim) and return inverse(z) "
        "(not z itself, not forward(z), no temperature).",
    "realnvp.training.nonfinite":
        "Training RealNVP on -log_prob(x).mean() produced NaN or inf at step {step} (losses {losses}).",
    "realnvp.training.no_decrease":
        "After {steps} Adam steps on your -log_prob(x).mean(), the true negative log-likelihood (from the Jacobian, "
        "not from your log_prob) went from {before:.3f} to {after:.3f}; it must decrease by at least 0.5 nats. "
        "Your own loss went from {first:.3f} to {last:.3f}. Train on the likelihood, not on MSE: a log_prob without "
        "log_det (or with its sign flipped) rewards shrinking z towards 0.",
    "realnvp.device":
        "{what} returned a tensor on {got} while the model and input are on {expected}: create tensors with "
        "device=x.device (or the `device` argument), never a fixed device.",
    "realnvp.logit.value.no_squeeze":
        "logit_transform(x, alpha={alpha}) returns logit(x) without the squeeze: y must be "
        "logit(alpha + (1 - 2 alpha) x), which stays finite at x = 0 and x = 1 (off by up to {worst:.3g}; "
        "got {got}, expected {expected}).",
    "realnvp.logit.value.other":
        "logit_transform(x, alpha={alpha}): y differs from logit(alpha + (1 - 2 alpha) x) by up to {worst:.3g} "
        "(got {got}, expected {expected}). Does it use the alpha it was given?",
    "realnvp.bpd.no_log256":
        "bits_per_dim(log_prob={log_prob}, dim={dim}) is exactly 8 too low (got {got}, expected {expected}): the "
        "dim * log 256 term is missing — data in [0, 1] came from 8-bit pixels, so the density of the 8-bit data is "
        "256^dim times smaller.",
    "realnvp.bpd.nats":
        "bits_per_dim(log_prob={log_prob}, dim={dim}) is in nats per dimension (got {got}, expected {expected}): "
        "divide by dim * log 2, not by dim.",
    "realnvp.bpd.no_dim":
        "bits_per_dim(log_prob={log_prob}, dim={dim}) is per image, not per dimension (got {got}, expected "
        "{expected}): divide by dim * log 2.",
    "realnvp.bpd.sign":
        "bits_per_dim(log_prob={log_prob}, dim={dim}) uses +log_prob (got {got}, expected {expected}): bits per "
        "dimension measure the NEGATIVE log-likelihood, (-log_prob + dim * log 256) / (dim * log 2).",
    "realnvp.bpd.other":
        "bits_per_dim(log_prob={log_prob}, dim={dim}) returned {got}; expected (-log_prob + dim * log 256) / "
        "(dim * log 2) = {expected}, elementwise.",
    "realnvp.actnorm.init.none":
        "ActNorm did not initialise itself from the first batch: its output equals its input (channel {channel}: "
        "mean {mean:.3g}, std {std:.3g}). On the first forward call set bias and scale from that batch so the output "
        "has zero mean and unit variance per channel.",
    "realnvp.actnorm.init.global":
        "ActNorm normalised the whole batch with one mean and std instead of one per channel: channel {channel} has "
        "mean {mean:.3g} and std {std:.3g} after the first call (input: mean {in_mean:.3g}, std {in_std:.3g}). "
        "Reduce over dims (0, 2, 3), keeping the channel dimension.",
    "realnvp.actnorm.init.other":
        "After its first call ActNorm's output should have zero mean and unit variance per channel; channel {channel} "
        "has mean {mean:.3g} and std {std:.3g} (input: mean {in_mean:.3g}, std {in_std:.3g}). With y = (x + b) * s "
        "the init is b = -mean, s = 1 / std.",
    "realnvp.actnorm.reinit":
        "ActNorm re-initialised itself on its second call: the output of a second, different batch is again "
        "normalised (per-channel means {mean}, stds {std}) instead of using the scale and bias set by the first "
        "batch (off by up to {worst:.3g}). Initialise only once and remember it (e.g. an `initialized` buffer).",
    "realnvp.invconv.not_orthogonal":
        "InvertibleConv1x1 is not initialised as a rotation: W W^T differs from I by up to {worst:.3g} and "
        "log|det W| = {log_abs_det:.3g} (a rotation has |det W| = 1). Initialise W with the Q of a QR decomposition "
        "of a random Gaussian matrix (torch.linalg.qr).",
    "realnvp.invconv.identity":
        "InvertibleConv1x1 starts as the identity: W must be a *random* rotation so that channels are mixed from the "
        "start (QR decomposition of a random Gaussian matrix).",
    "realnvp.invconv.stale":
        "InvertibleConv1x1: after W was changed, log_det still has its value from initialisation (got {got}, "
        "expected {expected}). Compute H * W * log|det W| from the current W in every forward call "
        "(torch.linalg.slogdet), not once in __init__.",
}

KO = {
    "realnvp.not_pair":
        "{what}은(는) (y, log_det) 쌍을 반환해야 합니다 — 모든 가역 층은 forward(x) -> (y, log_det) 규약을 따릅니다. "
        "반환된 값: {got}.",
    "realnvp.shape":
        "{what}의 shape이 {got}입니다. 규약은 {expected}을(를) 요구합니다.",
    "realnvp.signature.missing":
        "{name}에 `{param}` 매개변수가 없습니다 (있는 것: {found}). 규약(ASSIGNMENTS.md, realnvp)의 이름을 쓰세요.",
    "realnvp.signature.default":
        "{name}: `{param}`의 기본값은 {expected!r}이어야 합니다. 현재 값: {got!r}.",
    "realnvp.jacobian.cross_sample":
        "{what}: 샘플 {i}의 출력이 같은 배치의 샘플 {j}에 의존합니다 (야코비안 성분 {value:.3g}). "
        "flow는 각 샘플을 독립적으로 변환해야 하며, 그렇지 않으면 샘플별 log-det이 존재하지 않습니다. "
        "배치마다 통계를 다시 계산하는 부분을 확인하세요 (예: 호출마다 평균/표준편차를 다시 추정하는 ActNorm, BatchNorm).",
    "realnvp.logdet.shape":
        "{what}: log_det의 shape이 {got}입니다. 샘플마다 하나의 log|det J|, 즉 ({batch},)여야 합니다.",
    "realnvp.logdet.batch_sum":
        "{what}: log_det이 샘플별 log-det을 배치 전체에 대해 더한 값입니다 (shape {shape}에서 {got:.4g}; "
        "샘플별 값은 {per_sample}). 강의 코드의 `log_det_jacobian += s.sum()` 실수입니다: 차원에 대해서만 더해서 "
        "(예: `.sum(dim=1)`) log_det의 shape이 ({batch},)가 되게 하세요.",
    "realnvp.logdet.sign":
        "{what}: log_det의 부호가 반대입니다: 받은 값 {got}, forward의 log|det J|는 {expected}. "
        "forward는 데이터를 잠재 공간으로 보내며, y = x * exp(s) + t의 log-det은 +sum(s)입니다 (inverse라면 -sum(s)).",
    "realnvp.logdet.hw_factor":
        "{what}: log_det이 {hw}배 작습니다 (받은 값 {got}, 기대값 {expected}): H * W = {hw} 인자가 빠졌습니다. "
        "같은 채널별 변환이 H * W개의 픽셀 위치마다 적용되므로 log-det도 H * W번 더해집니다.",
    "realnvp.logdet.missing_term":
        "{what}: log_det이 샘플마다 {value:.4g}만큼 다릅니다 (받은 값 {got}, 기대값 {expected}): "
        "{term} 항이 빠졌습니다.",
    "realnvp.logdet.offset":
        "{what}: log_det이 모든 샘플에서 똑같이 {offset:.4g}만큼 다릅니다 (받은 값 {got}, 기대값 {expected}): "
        "상수 항이 빠졌거나 남습니다.",
    "realnvp.logdet.value":
        "{what}: log_det이 log|det J| (forward의 autograd 야코비안, float64, 초기값에서 벗어난 가중치)와 최대 "
        "{worst:.3g} 다릅니다: 받은 값 {got}, 기대값 {expected}. s를 변환되는 성분(mask 0)에 대해서만 더하는지, "
        "모든 층의 log-det을 더하는지, forward에서 실제로 쓴 scale을 쓰는지 확인하세요.",
    "realnvp.logdet.sign.closed_form":
        "{what}: log_det의 부호가 반대입니다: 받은 값 {got}, 기대값 {expected}. p = alpha + (1 - 2 alpha) x일 때 "
        "원소별 dy/dx = (1 - 2 alpha) / (p (1 - p))이므로 log_det = sum(log(1 - 2 alpha) - log p - log(1 - p))입니다.",
    "realnvp.logdet.value.closed_form":
        "{what}: log_det이 sum(log(1 - 2 alpha) - log p - log(1 - p)) (p = alpha + (1 - 2 alpha) x)와 최대 "
        "{worst:.3g} 다릅니다: 받은 값 {got}, 기대값 {expected}. 주어진 alpha로 각 샘플의 D개 차원에 대해 더하세요.",
    "realnvp.inverse.x":
        "{what}: 초기값에서 벗어난 가중치로 inverse(forward(x))가 x와 최대 {worst:.3g} 다릅니다 (허용 오차 {tol:.1g}). "
        "inverse는 forward를 정확히 되돌려야 합니다: 층 순서를 뒤집고, 바뀌지 않은 (mask 1) 성분에서 s와 t를 다시 "
        "계산하고, x = (y - t) * exp(-s)를 쓰세요.",
    "realnvp.inverse.z":
        "{what}: forward(inverse(z))가 z와 최대 {worst:.3g} 다릅니다 (허용 오차 {tol:.1g}). inverse는 양방향 모두 "
        "forward의 정확한 역함수여야 합니다.",
    "realnvp.coupling.kept_changed":
        "mask {mask}인 AffineCoupling이 mask가 1인 성분을 바꿨습니다 (위치 {positions}, 최대 {worst:.3g}). "
        "mask 1 성분은 그대로 통과하고 나머지를 조건화하는 데만 쓰여야 합니다. y를 만들 때 강의 코드의 x.chunk(2)가 "
        "아니라 생성자에 주어진 mask를 쓰세요.",
    "realnvp.coupling.free_unchanged":
        "mask {mask}인 AffineCoupling이 가중치를 초기값에서 옮긴 뒤에도 mask 0 성분을 바꾸지 않았습니다: "
        "그 성분에는 y = x * exp(s) + t가 적용되어야 합니다.",
    "realnvp.coupling.sees_free":
        "mask {mask}인 AffineCoupling: 출력 {out} (mask 0)이 입력 {inp} (역시 mask 0)에 의존합니다 (야코비안 성분 "
        "{value:.3g}). scale과 shift 네트워크는 바뀌지 않는 성분 x * mask만 봐야 합니다. 그렇지 않으면 야코비안이 "
        "삼각행렬이 아니어서 sum(s)가 log-det이 아니고, inverse에서 s와 t를 다시 계산할 수 없습니다.",
    "realnvp.coupling.unconditioned":
        "mask {mask}인 AffineCoupling: mask 0 출력이 어떤 mask 1 입력에도 의존하지 않으므로 scale과 shift가 바뀌지 "
        "않는 성분으로 조건화되지 않았습니다. scale과 shift 네트워크에 x * mask를 넣으세요.",
    "realnvp.every_dim":
        "RealNVP(dim={dim}, n_layers={layers}): z의 차원 {rows}이(가) 입력과 같고 (dz_i/dx = e_i: 어떤 coupling도 "
        "변환하지 않음), x의 차원 {cols}은(는) 다른 어떤 차원에도 영향을 주지 않습니다. mask는 층마다 번갈아야 "
        "합니다 (m, 1 - m, m, ...). 강의 코드는 모든 층에서 같은 절반을 고정합니다.",
    "realnvp.log_prob.constant":
        "RealNVP.log_prob이 모든 샘플에서 {offset:.4g} = D/2 * log(2 pi) (D = {dim})만큼 큽니다: 표준정규분포의 "
        "정규화 상수 -D/2 * log(2 pi)가 빠졌습니다. 받은 값 {got}, 기대값 {expected}.",
    "realnvp.log_prob.no_log_det":
        "RealNVP.log_prob이 z의 기저 로그 밀도뿐입니다 (받은 값 {got}, 기대값 {expected}): forward의 log_det을 "
        "더하세요 (변수 변환: log p(x) = log N(z; 0, I) + log|det dz/dx|).",
    "realnvp.log_prob.log_det_sign":
        "RealNVP.log_prob이 log_det을 뺍니다 (받은 값 {got}, 기대값 {expected}). 변수 변환 공식은 forward의 "
        "log-det을 더합니다: log p(x) = log N(z; 0, I) + log_det.",
    "realnvp.log_prob.mean_over_dims":
        "RealNVP.log_prob이 기저 로그 밀도를 차원에 대해 평균냅니다 (받은 값 {got}, 기대값 {expected}). "
        "log N(z; 0, I)는 D개 차원에 대한 합입니다.",
    "realnvp.log_prob.value":
        "RealNVP.log_prob이 (여러분의 forward로 계산한) -|z|^2/2 - D/2 log(2 pi) + log_det과 최대 {worst:.3g} "
        "다릅니다: 받은 값 {got}, 기대값 {expected}.",
    "realnvp.sample.nonfinite":
        "forward(sample(n))에 NaN이나 inf가 있습니다: sample이 forward로 되돌릴 수 있는 점을 만들지 않습니다.",
    "realnvp.sample.distribution":
        "forward(sample({n}))는 sample이 뽑은 표준정규 잡음 그 자체여야 하지만 N(0, I)가 아닙니다: 좌표 {k}의 평균 "
        "{mean:.3f}, 표준편차 {std:.3f} (KS p = {p:.2g}); |z|^2의 평균 {norm:.2f} (기대값 {dim}, KS p = "
        "{p_norm:.2g}). sample은 z ~ torch.randn(n, dim)을 뽑아 inverse(z)를 반환해야 합니다 (z 그대로, forward(z), "
        "temperature 적용 모두 안 됨).",
    "realnvp.training.nonfinite":
        "-log_prob(x).mean()으로 RealNVP를 학습하는 중 {step}번째 단계에서 NaN 또는 inf가 나왔습니다 (손실 {losses}).",
    "realnvp.training.no_decrease":
        "여러분의 -log_prob(x).mean()으로 Adam {steps}단계 학습한 뒤, (여러분의 log_prob이 아니라 야코비안으로 계산한) "
        "실제 음의 로그 우도가 {before:.3f}에서 {after:.3f}가 되었습니다. 적어도 0.5 nat 줄어야 합니다. 여러분의 손실은 "
        "{first:.3f}에서 {last:.3f}가 되었습니다. MSE가 아니라 우도로 학습하세요: log_det이 없는 (또는 부호가 반대인) "
        "log_prob은 z를 0으로 줄이는 쪽을 보상합니다.",
    "realnvp.device":
        "모델과 입력은 {expected}에 있는데 {what}이(가) {got}의 텐서를 반환했습니다: 텐서는 device=x.device "
        "(또는 `device` 인자)로 만들고, 장치를 고정하지 마세요.",
    "realnvp.logit.value.no_squeeze":
        "logit_transform(x, alpha={alpha})가 압축 없이 logit(x)를 반환합니다: y는 logit(alpha + (1 - 2 alpha) x)여야 "
        "하며, 이는 x = 0과 x = 1에서도 유한합니다 (최대 {worst:.3g} 차이; 받은 값 {got}, 기대값 {expected}).",
    "realnvp.logit.value.other":
        "logit_transform(x, alpha={alpha}): y가 logit(alpha + (1 - 2 alpha) x)와 최대 {worst:.3g} 다릅니다 "
        "(받은 값 {got}, 기대값 {expected}). 주어진 alpha를 쓰고 있나요?",
    "realnvp.bpd.no_log256":
        "bits_per_dim(log_prob={log_prob}, dim={dim})이 정확히 8만큼 작습니다 (받은 값 {got}, 기대값 {expected}): "
        "dim * log 256 항이 빠졌습니다 — [0, 1]의 데이터는 8비트 픽셀에서 왔으므로 8비트 데이터의 밀도는 256^dim배 "
        "작습니다.",
    "realnvp.bpd.nats":
        "bits_per_dim(log_prob={log_prob}, dim={dim})이 차원당 nat 단위입니다 (받은 값 {got}, 기대값 {expected}): "
        "dim이 아니라 dim * log 2로 나누세요.",
    "realnvp.bpd.no_dim":
        "bits_per_dim(log_prob={log_prob}, dim={dim})이 차원당이 아니라 이미지당 값입니다 (받은 값 {got}, 기대값 "
        "{expected}): dim * log 2로 나누세요.",
    "realnvp.bpd.sign":
        "bits_per_dim(log_prob={log_prob}, dim={dim})이 +log_prob을 씁니다 (받은 값 {got}, 기대값 {expected}): "
        "차원당 비트는 음의 로그 우도를 잽니다, (-log_prob + dim * log 256) / (dim * log 2).",
    "realnvp.bpd.other":
        "bits_per_dim(log_prob={log_prob}, dim={dim})이 {got}을(를) 반환했습니다. 기대값은 원소별로 "
        "(-log_prob + dim * log 256) / (dim * log 2) = {expected}입니다.",
    "realnvp.actnorm.init.none":
        "ActNorm이 첫 배치로 초기화되지 않았습니다: 출력이 입력과 같습니다 (채널 {channel}: 평균 {mean:.3g}, "
        "표준편차 {std:.3g}). 첫 forward 호출에서 그 배치로 bias와 scale을 정해 출력이 채널별로 평균 0, 분산 1이 "
        "되게 하세요.",
    "realnvp.actnorm.init.global":
        "ActNorm이 채널별이 아니라 배치 전체의 평균과 표준편차 하나로 정규화했습니다: 첫 호출 뒤 채널 {channel}의 평균 "
        "{mean:.3g}, 표준편차 {std:.3g} (입력: 평균 {in_mean:.3g}, 표준편차 {in_std:.3g}). 채널 차원을 남기고 "
        "(0, 2, 3) 차원에 대해 줄이세요.",
    "realnvp.actnorm.init.other":
        "첫 호출 뒤 ActNorm의 출력은 채널별로 평균 0, 분산 1이어야 합니다. 채널 {channel}의 평균 {mean:.3g}, "
        "표준편차 {std:.3g} (입력: 평균 {in_mean:.3g}, 표준편차 {in_std:.3g}). y = (x + b) * s라면 초기값은 "
        "b = -mean, s = 1 / std입니다.",
    "realnvp.actnorm.reinit":
        "ActNorm이 두 번째 호출에서 다시 초기화되었습니다: 다른 두 번째 배치의 출력이 첫 배치로 정한 scale과 bias를 "
        "쓰지 않고 다시 정규화되었습니다 (채널별 평균 {mean}, 표준편차 {std}; 최대 {worst:.3g} 차이). "
        "초기화는 한 번만 하고 기억하세요 (예: `initialized` 버퍼).",
    "realnvp.invconv.not_orthogonal":
        "InvertibleConv1x1이 회전 행렬로 초기화되지 않았습니다: W W^T가 I와 최대 {worst:.3g} 다르고 log|det W| = "
        "{log_abs_det:.3g}입니다 (회전은 |det W| = 1). 무작위 가우시안 행렬의 QR 분해의 Q로 W를 초기화하세요 "
        "(torch.linalg.qr).",
    "realnvp.invconv.identity":
        "InvertibleConv1x1이 항등 행렬로 시작합니다: 처음부터 채널이 섞이도록 W는 *무작위* 회전이어야 합니다 "
        "(무작위 가우시안 행렬의 QR 분해).",
    "realnvp.invconv.stale":
        "InvertibleConv1x1: W가 바뀐 뒤에도 log_det이 초기화 때의 값 그대로입니다 (받은 값 {got}, 기대값 "
        "{expected}). H * W * log|det W|는 __init__에서 한 번이 아니라 매 forward 호출마다 현재 W로 계산하세요 "
        "(torch.linalg.slogdet).",
}

# Check names as Korean students see them (the rubric's `name=` is the English one).
NAMES_KO = {
    "test_signatures": "생성자와 함수의 파라미터와 기본값이 규약과 같고, 기본값으로 동작함",
    "test_coupling_mask": "AffineCoupling: 마스크가 1인 원소는 그대로 통과하고 나머지의 변환을 결정",
    "test_coupling_invertible": "AffineCoupling: inverse가 forward를 되돌림",
    "test_coupling_log_det": "AffineCoupling: log_det이 샘플마다 log|det J|",
    "test_realnvp_every_dim": "RealNVP: 마스크가 번갈아 바뀌어 모든 차원이 변환됨",
    "test_realnvp_invertible": "RealNVP: inverse가 forward를 되돌림",
    "test_realnvp_log_det": "RealNVP: log_det이 샘플마다 전체 스택의 log|det J|",
    "test_realnvp_log_prob": "RealNVP: log_prob = z의 표준정규 로그 밀도 + log_det",
    "test_realnvp_sample": "RealNVP: sample이 N(0, I) 잡음을 inverse로 변환",
    "test_realnvp_training": "RealNVP: 학습하면 음의 로그 우도가 줄어듦",
    "test_realnvp_odd_dim": "RealNVP: 홀수 차원과 3개 층에서도 변환, 역변환, log-det이 맞음",
    "test_devices": "출력이 모델과 입력의 장치에 있음 (장치 하드코딩 없음)",
    "test_logit_value": "logit_transform: y = logit(alpha + (1 - 2 alpha) x)",
    "test_logit_log_det": "logit_transform: 샘플별 log-det",
    "test_bits_per_dim": "알려진 값에 대한 bits_per_dim",
    "test_actnorm_init": "ActNorm: 첫 호출에서 채널마다 평균 0, 분산 1이 되도록 초기화",
    "test_actnorm_init_once": "ActNorm: 첫 호출에서만 초기화",
    "test_actnorm_invertible": "ActNorm: inverse가 forward를 되돌림",
    "test_actnorm_log_det": "ActNorm: 샘플마다 log_det = H * W * sum(log|scale|)",
    "test_invconv_rotation": "InvertibleConv1x1: 무작위 회전 행렬로 초기화",
    "test_invconv_invertible": "InvertibleConv1x1: W가 회전이 아니게 된 뒤에도 inverse가 forward를 되돌림",
    "test_invconv_log_det": "InvertibleConv1x1: W가 바뀐 뒤에도 log_det = H * W * log|det W|",
}
