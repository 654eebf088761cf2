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
        "Look for statistics computed from each batch (e.g. ActNorm re-estimating mean and std on every call).",
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
        "{what}: log_det differs from log|det J| (the Jacobian of your forward's outputs, by central differences, "
        "weights moved away from initialisation) by up to {worst:.3g}: got {got}, expected {expected}. Check that it sums s only over the "
        "transformed entries (mask 0), adds every layer's log-det, and uses the scale actually applied in forward.",
    "realnvp.logdet.sign.closed_form":
        "{what}: log_det has the wrong sign: got {got}, expected {expected}. log_det is the log of the derivative of "
        "the map logit_transform computes (x -> y), summed over the dimensions; the squeeze and the logit both stretch "
        "the unit interval, so every per-dimension term is positive.",
    "realnvp.logdet.value.closed_form":
        "{what}: log_det differs from the log-det of the logit transform by up to {worst:.3g}: got {got}, expected "
        "{expected}. It must account for both steps, the squeeze by (1 - 2 alpha) with the alpha given and the logit "
        "itself, in every one of the D dimensions of each sample.",
    "realnvp.inverse.x":
        "{what}: inverse(forward(x)) differs from x by up to {worst:.3g} (tolerance {tol:.1g}), with weights moved away "
        "from initialisation. inverse must undo forward exactly: reverse the layer order, recompute s and t from the "
        "unchanged (mask-1) entries, and undo each coupling's affine step with them.",
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
        "RealNVP.log_prob is the base log-density of z alone (got {got}, expected {expected}): the log_det of forward "
        "is missing. The change of variables also counts how much forward stretches or shrinks volume around x.",
    "realnvp.log_prob.log_det_sign":
        "RealNVP.log_prob subtracts log_det (got {got}, expected {expected}). forward maps data to the latent, and "
        "in the change of variables the log-det of that direction is added to the base log-density, not subtracted.",
    "realnvp.log_prob.mean_over_dims":
        "RealNVP.log_prob averages the base log-density over dimensions (got {got}, expected {expected}); "
        "log N(z; 0, I) is a sum over the D dimensions.",
    "realnvp.log_prob.value":
        "RealNVP.log_prob differs by up to {worst:.3g} from the log-density that the change of variables gives for "
        "your own forward: got {got}, expected {expected}. Check the standard-normal base log-density of z (summed "
        "over all D dimensions, with its normalising constant) and forward's per-sample log_det.",
    "realnvp.sample.nonfinite":
        "forward(sample(n)) contains NaN or inf: sample does not produce points that forward can map back.",
    "realnvp.sample.distribution":
        "forward(sample({n})) should be exactly the standard normal noise that sample drew, but it is not N(0, I): "
        "coordinate {k} has mean {mean:.3f} and std {std:.3f} (KS p = {p:.2g}); the mean of |z|^2 is {norm:.2f} "
        "(expected {dim}, KS p = {p_norm:.2g}). sample must draw z from the fixed standard-normal base "
        "distribution and carry it to data space through the flow's inverse direction: not z itself, not "
        "forward(z), no temperature, and an inverse that undoes forward exactly.",
    "realnvp.training.nonfinite":
        "Training RealNVP on -log_prob(x).mean() produced NaN or inf at step {step} (losses {losses}).",
    "realnvp.training.no_decrease":
        "After {steps} Adam steps on your -log_prob(x).mean(), the true negative log-likelihood (from the Jacobian, "
        "not from your log_prob) went from {before:.3f} to {after:.3f}; it must decrease by at least 0.5 nats. "
        "Your own loss went from {first:.3f} to {last:.3f}: the loss your log_prob defines is not the negative "
        "log-likelihood of the flow your forward computes. Check that log_prob adds every layer's log-det, with the "
        "sign of forward's direction, per sample.",
    "realnvp.unchanged":
        "{what} returned its input unchanged (largest change {worst:.3g}) although its weights were moved away "
        "from initialisation: a flow layer must transform the data it is meant to transform, with the log-det "
        "that goes with it. An identity map (or a value that only looks transformed to autograd) earns nothing here.",
    "realnvp.not_invertible":
        "{what}: the Jacobian of forward (from its outputs, central differences) is singular for sample {sample}, so "
        "log|det J| is -inf: the layer is not invertible there. A scale must never be exactly 0 (use exp(s)), "
        "and every output must depend on its own input.",
    "realnvp.integrity.answers":
        "{what}: the outputs the grader's worker helper reported for a batch differ by up to {worst:.3g} from what "
        "{what} returns for the same batch when called directly.",
    "realnvp.not_deterministic":
        "{what}: two forward calls on the same batch differ by up to {worst:.3g}. A flow layer must be a "
        "deterministic function of its input (otherwise inverse cannot undo it): remove dropout or other "
        "randomness from forward.",
    "realnvp.logdet.batch_total":
        "{what} (training mode, samples of a batch interact through batch statistics): the per-sample log-dets "
        "sum to {got:.6g}, but the log|det| of the map of the whole batch of {batch} is {expected:.6g}. Each "
        "coupling's log-det must be the sum of s over its transformed entries, added over every layer.",
    "realnvp.log_prob.trainable_base":
        "RealNVP.log_prob follows the standard-normal formula at initialisation but not once the trainable "
        "parameters have moved (got {got}, expected {expected}): the base distribution has parameters that "
        "training changes (a learned mean or scale). The contract's base is the fixed N(0, I).",
    "realnvp.sample.trainable_base":
        "forward(sample({n})) is N(0, I) before the trainable parameters move, but not after: coordinate {k} has "
        "mean {mean:.3f} and std {std:.3f} (KS p = {p:.2g}). sample draws from a base distribution with "
        "parameters that training changes (a learned mean or scale); the contract's base is the fixed N(0, I).",
    "realnvp.training.direction":
        "After {steps} Adam steps on your -log_prob(x).mean(), the true negative log-likelihood (from the Jacobian of "
        "your forward, not from your log_prob) went from {before:.3f} to {after:.3f}; it must decrease by at least "
        "0.5 nats (your own loss: {first:.3f} -> {last:.3f}). forward's log_det is minus the log-det of the map "
        "forward computes: forward and inverse are swapped (forward must map data to the latent, x -> z) or the "
        "log-det belongs to the other direction, so training rewards the wrong volume change.",
    "realnvp.training.no_log_det":
        "After {steps} Adam steps on your -log_prob(x).mean(), the true negative log-likelihood went from "
        "{before:.3f} to {after:.3f} (your own loss: {first:.3f} -> {last:.3f}); it must decrease by at least 0.5 "
        "nats. Your log_prob is the base density of z alone: without the log-det, maximising it only shrinks z "
        "towards 0. Add forward's log_det (change of variables).",
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
        "dimension measure the NEGATIVE log-likelihood of the 8-bit data, in bits, per dimension.",
    "realnvp.bpd.other":
        "bits_per_dim(log_prob={log_prob}, dim={dim}) returned {got}; expected {expected}, elementwise: the negative "
        "log-likelihood of the 8-bit data (including the dequantisation term of the 256 levels per dimension), "
        "in bits, per dimension.",
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
        "has mean {mean:.3g} and std {std:.3g} (input: mean {in_mean:.3g}, std {in_std:.3g}). ActNorm initialises its "
        "bias and scale from the first batch's per-channel statistics so that its output is standardised: check "
        "which statistic sets the bias and which the scale, and the order in which forward applies them.",
    "realnvp.actnorm.never_initialised":
        "its first call returned the batch unchanged, so it never initialised itself from data",
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
        "{what}: 반환값은 (y, log_det) 쌍이어야 합니다. 모든 가역 층은 forward(x) -> (y, log_det) 규약을 따르는데, "
        "돌려받은 값의 형식은 {got}입니다.",
    "realnvp.shape":
        "{what}: 형태(shape)가 {got}입니다. 규약이 요구하는 형태는 {expected}입니다.",
    "realnvp.signature.missing":
        "{name}: `{param}` 매개변수가 없습니다 (있는 매개변수: {found}). 규약(ASSIGNMENTS.md의 realnvp 절)에 나온 "
        "이름을 그대로 쓰세요.",
    "realnvp.signature.default":
        "{name}: `{param}`의 기본값이 규약과 다릅니다 (규약: {expected!r}, 현재: {got!r}).",
    "realnvp.jacobian.cross_sample":
        "{what}: 샘플 {i}의 출력이 같은 배치에 있는 샘플 {j}에 따라 달라집니다 (야코비안 성분 {value:.3g}). "
        "이 층은 샘플마다 따로 변환해야 하며, 그렇지 않으면 샘플별 로그 행렬식이 정의되지 않습니다. 배치마다 통계를 "
        "새로 계산하는 곳이 없는지 확인하세요 (예: 호출할 때마다 평균과 표준편차를 다시 추정하는 ActNorm).",
    "realnvp.logdet.shape":
        "{what}: log_det의 형태(shape)가 {got}입니다. 샘플마다 log|det J| 하나씩, 즉 shape ({batch},)여야 합니다.",
    "realnvp.logdet.batch_sum":
        "{what}: log_det에 샘플별 로그 행렬식을 배치 전체에 걸쳐 더한 값이 들어 있습니다 (shape {shape}, 값 {got:.4g}; "
        "샘플별 값은 {per_sample}). 강의 코드의 `log_det_jacobian += s.sum()`에서 생기는 실수입니다. 차원 방향으로만 "
        "더해서(예: `.sum(dim=1)`) log_det의 형태(shape)가 ({batch},)가 되도록 하세요.",
    "realnvp.logdet.sign":
        "{what}: log_det의 부호가 반대입니다. 받은 값은 {got}, forward의 log|det J|는 {expected}입니다. forward 메서드는 "
        "데이터를 잠재 공간으로 보내는 방향이고, y = x * exp(s) + t의 로그 행렬식은 +sum(s)입니다 "
        "(inverse 쪽이 -sum(s)입니다).",
    "realnvp.logdet.hw_factor":
        "{what}: log_det 값이 {hw}배 작습니다 (받은 값 {got}, 기대값 {expected}). H * W = {hw} 배수가 빠졌습니다. "
        "같은 채널별 변환이 H * W개의 픽셀 위치마다 적용되므로 로그 행렬식도 H * W번 더해져야 합니다.",
    "realnvp.logdet.missing_term":
        "{what}: log_det 값이 샘플마다 {value:.4g}만큼 어긋납니다 (받은 값 {got}, 기대값 {expected}). "
        "빠진 항: {term}.",
    "realnvp.logdet.offset":
        "{what}: log_det 값이 모든 샘플에서 똑같이 {offset:.4g}만큼 어긋납니다 (받은 값 {got}, 기대값 {expected}). "
        "상수 항이 빠졌거나 하나 더 들어갔습니다.",
    "realnvp.logdet.value":
        "{what}: log_det과 log|det J|의 차이가 최대 {worst:.3g}입니다. 기대값은 가중치를 초기값에서 옮긴 뒤 forward의 "
        "출력으로 중앙 차분을 계산해 얻은 야코비안에서 구했습니다 (받은 값 {got}, 기대값 {expected}). s를 변환되는 "
        "성분(mask 0)에 대해서만 더하는지, 모든 층의 로그 행렬식을 더하는지, forward에서 실제로 곱한 scale을 쓰는지 "
        "확인하세요.",
    "realnvp.logdet.sign.closed_form":
        "{what}: log_det의 부호가 반대입니다 (받은 값 {got}, 기대값 {expected}). log_det 값은 logit_transform 함수가 계산하는 "
        "사상(x -> y)의 원소별 도함수에 로그를 취해 차원에 걸쳐 더한 값입니다. 압축과 logit 모두 단위 구간을 늘리므로 "
        "차원마다 더해지는 항은 모두 양수입니다.",
    "realnvp.logdet.value.closed_form":
        "{what}: log_det 값과 logit 변환의 로그 행렬식 사이의 차이가 최대 {worst:.3g}입니다 (받은 값 {got}, 기대값 "
        "{expected}). 인자로 받은 alpha를 쓴 (1 - 2 alpha) 압축과 logit 자체, 두 단계를 샘플마다 D개 차원 모두에서 "
        "반영해야 합니다.",
    "realnvp.inverse.x":
        "{what}: 가중치를 초기값에서 옮긴 뒤 계산한 inverse(forward(x))와 x의 차이가 최대 {worst:.3g}입니다 "
        "(허용 오차 {tol:.1g}). inverse 메서드는 forward를 정확히 되돌려야 합니다. 층 순서를 거꾸로 하고, 바뀌지 않은 "
        "(mask 1) 성분에서 s와 t를 다시 계산한 다음, 그 값으로 각 coupling의 아핀 변환을 되돌리세요.",
    "realnvp.inverse.z":
        "{what}: forward(inverse(z))와 z의 차이가 최대 {worst:.3g}입니다 (허용 오차 {tol:.1g}). inverse 메서드는 "
        "양쪽 방향 모두에서 forward의 정확한 역함수여야 합니다.",
    "realnvp.coupling.kept_changed":
        "AffineCoupling (mask {mask}): mask 값이 1인 성분이 바뀌었습니다 (위치 {positions}, 최대 {worst:.3g}). "
        "mask 1 성분은 그대로 통과하면서 나머지 성분의 변환을 결정하는 데만 쓰여야 합니다. y를 만들 때 강의 코드의 "
        "x.chunk(2) 대신 생성자로 받은 mask를 쓰세요.",
    "realnvp.coupling.free_unchanged":
        "AffineCoupling (mask {mask}): 가중치를 초기값에서 옮긴 뒤에도 mask 0 성분이 그대로입니다. 그 성분에는 "
        "y = x * exp(s) + t가 적용되어야 합니다.",
    "realnvp.coupling.sees_free":
        "AffineCoupling (mask {mask}): mask 0인 {out}번 출력이 역시 mask 0인 {inp}번 입력에 따라 달라집니다 "
        "(야코비안 성분 {value:.3g}). scale과 shift 네트워크는 바뀌지 않는 성분인 x * mask만 봐야 합니다. 그렇지 "
        "않으면 야코비안이 삼각행렬이 아니게 되어 sum(s) 값이 로그 행렬식이 아니고, inverse에서 s와 t를 다시 계산할 수도 "
        "없습니다.",
    "realnvp.coupling.unconditioned":
        "AffineCoupling (mask {mask}): mask 0 출력이 mask 1 입력 어느 것에도 영향을 받지 않습니다. 즉 scale과 "
        "shift 값이 바뀌지 않는 성분에 조건화되어 있지 않습니다. scale과 shift 네트워크의 입력으로 x * mask를 넣으세요.",
    "realnvp.every_dim":
        "RealNVP(dim={dim}, n_layers={layers}): z의 {rows}번 차원은 입력과 똑같고 (dz_i/dx = e_i, 즉 어느 coupling도 "
        "변환하지 않음), x의 {cols}번 차원은 다른 어떤 차원에도 영향을 주지 않습니다. mask 값은 층마다 m, 1 - m, m, ... "
        "처럼 번갈아 바뀌어야 합니다. 강의 코드는 모든 층에서 같은 절반을 고정해 둡니다.",
    "realnvp.log_prob.constant":
        "RealNVP.log_prob: 모든 샘플에서 결과가 {offset:.4g}만큼 큽니다. 이 값은 D = {dim}일 때의 D/2 * log(2 pi)로, "
        "표준정규분포의 정규화 상수 -D/2 * log(2 pi)가 빠졌다는 뜻입니다 (받은 값 {got}, 기대값 {expected}).",
    "realnvp.log_prob.no_log_det":
        "RealNVP.log_prob: 결과가 z의 기저 로그 밀도뿐입니다 (받은 값 {got}, 기대값 {expected}). forward의 log_det "
        "값이 빠졌습니다. 변수 변환 공식은 forward 메서드가 x 주변의 부피를 얼마나 늘리거나 줄이는지도 반영합니다.",
    "realnvp.log_prob.log_det_sign":
        "RealNVP.log_prob: log_det 값을 빼고 있습니다 (받은 값 {got}, 기대값 {expected}). forward 메서드는 데이터를 잠재 "
        "공간으로 보내는 방향이고, 변수 변환 공식에서는 이 방향의 로그 행렬식을 기저 로그 밀도에 빼지 않고 더합니다.",
    "realnvp.log_prob.mean_over_dims":
        "RealNVP.log_prob: 기저 로그 밀도를 차원에 걸쳐 평균 내고 있습니다 (받은 값 {got}, 기대값 {expected}). "
        "log N(z; 0, I)는 D개 차원에 걸친 합입니다.",
    "realnvp.log_prob.value":
        "RealNVP.log_prob: 여러분의 forward에 변수 변환 공식을 적용해 얻은 로그 밀도와의 차이가 최대 {worst:.3g}입니다 "
        "(받은 값 {got}, 기대값 {expected}). z의 표준정규 기저 로그 밀도(D개 차원 전체에 걸친 합, 정규화 상수 포함)와 "
        "샘플별 forward의 log_det 값을 확인하세요.",
    "realnvp.sample.nonfinite":
        "forward(sample(n)) 결과에 NaN이나 inf가 있습니다. sample 함수가 만든 점을 forward로 다시 보낼 수 없습니다.",
    "realnvp.sample.distribution":
        "forward(sample({n}))의 결과는 sample 함수가 뽑은 표준정규 잡음과 정확히 같아야 하는데, 결과가 N(0, I)를 따르지 "
        "않습니다. {k}번 좌표의 평균은 {mean:.3f}, 표준편차는 {std:.3f}이고 (KS p = {p:.2g}), |z|^2의 평균은 "
        "{norm:.2f}입니다 (기대값 {dim}, KS p = {p_norm:.2g}). sample 함수는 고정된 표준정규 기저 분포에서 z를 뽑아 "
        "flow의 역방향으로 데이터 공간에 보내야 합니다. z를 그대로 반환하거나 forward(z)를 반환하면 안 되고, "
        "temperature도 쓰지 않으며, inverse 메서드는 forward를 정확히 되돌려야 합니다.",
    "realnvp.training.nonfinite":
        "RealNVP 모델을 -log_prob(x).mean() 손실로 학습하던 중 {step}번째 단계에서 NaN 또는 inf가 나왔습니다 "
        "(손실 {losses}).",
    "realnvp.training.no_decrease":
        "여러분의 -log_prob(x).mean() 손실로 Adam을 {steps}단계 돌린 뒤, 실제 음의 로그 우도(여러분의 log_prob이 아니라 "
        "forward의 야코비안으로 계산)는 학습 전 {before:.3f}, 학습 후 {after:.3f}입니다. 적어도 0.5 nat은 줄어야 "
        "합니다. 여러분의 손실은 학습 전 {first:.3f}, 학습 후 {last:.3f}입니다. 즉 log_prob 메서드가 정의하는 손실이 forward 메서드가 계산하는 "
        "flow의 음의 로그 우도와 다르다는 뜻입니다. log_prob 메서드가 모든 층의 로그 행렬식을 forward 방향의 부호로, "
        "샘플마다 더하는지 확인하세요.",
    "realnvp.unchanged":
        "{what}: 가중치를 초기값에서 옮겼는데도 입력을 그대로 돌려줍니다 (가장 큰 변화 {worst:.3g}). flow의 각 층은 "
        "변환하기로 되어 있는 데이터를 실제로 변환하고, 그에 맞는 로그 행렬식을 내야 합니다. 항등 사상이나 autograd"
        "에만 변환된 것처럼 보이는 값으로는 이 항목의 점수를 받을 수 없습니다.",
    "realnvp.not_invertible":
        "{what}: 샘플 {sample}에서 forward의 야코비안(출력으로 계산한 중앙 차분)이 특이행렬이라 log|det J|가 "
        "-inf입니다. 즉 이 층은 그 점에서 가역이 아닙니다. scale 값이 정확히 0이 되는 일이 없도록 하고(exp(s)를 쓰세요), "
        "모든 출력이 자기 입력에 의존하게 하세요.",
    "realnvp.integrity.answers":
        "{what}: 채점기의 작업자 쪽 도우미가 보고한 어떤 배치의 출력이, 같은 배치를 넣어 직접 호출했을 때의 "
        "출력과 최대 {worst:.3g}만큼 다릅니다.",
    "realnvp.not_deterministic":
        "{what}: 같은 배치로 forward를 두 번 호출한 결과가 최대 {worst:.3g}만큼 다릅니다. flow의 층은 입력만으로 "
        "출력이 정해지는 결정적 함수여야 합니다 (그래야 inverse 메서드가 되돌릴 수 있습니다). forward에서 dropout 같은 "
        "무작위성을 없애세요.",
    "realnvp.logdet.batch_total":
        "{what} (학습 모드에서 배치 통계 때문에 한 배치의 샘플들이 서로 영향을 줌): 샘플별 로그 행렬식의 합은 "
        "{got:.6g}인데, 샘플 {batch}개짜리 배치 전체에 대한 사상의 log|det|는 {expected:.6g}입니다. 각 coupling의 "
        "로그 행렬식은 변환되는 성분에 대한 s의 합이어야 하고, 모든 층에 걸쳐 더해야 합니다.",
    "realnvp.log_prob.trainable_base":
        "RealNVP.log_prob: 초기 상태에서는 표준정규분포 공식과 맞지만, 학습되는 매개변수를 옮기자 맞지 않습니다 "
        "(받은 값 {got}, 기대값 {expected}). 기저 분포에 학습으로 바뀌는 매개변수(학습되는 평균이나 스케일)가 "
        "들어 있습니다. 규약의 기저 분포는 고정된 N(0, I)입니다.",
    "realnvp.sample.trainable_base":
        "forward(sample({n})): 학습되는 매개변수를 옮기기 전에는 N(0, I)를 따르지만 옮긴 뒤에는 따르지 않습니다. "
        "{k}번 좌표의 평균은 {mean:.3f}, 표준편차는 {std:.3f}입니다 (KS p = {p:.2g}). sample 함수가 학습으로 바뀌는 "
        "매개변수(학습되는 평균이나 스케일)를 가진 기저 분포에서 뽑고 있습니다. 규약의 기저 분포는 고정된 "
        "N(0, I)입니다.",
    "realnvp.training.direction":
        "여러분의 -log_prob(x).mean() 손실로 Adam을 {steps}단계 돌린 뒤, 실제 음의 로그 우도(여러분의 log_prob이 아니라 "
        "forward의 야코비안으로 계산)는 학습 전 {before:.3f}, 학습 후 {after:.3f}입니다. 적어도 0.5 nat은 줄어야 "
        "합니다 (여러분의 손실: {first:.3f} -> {last:.3f}). forward 메서드가 돌려주는 log_det 값의 부호가, 그 메서드가 실제로 계산하는 사상의 "
        "로그 행렬식과 반대입니다. forward와 inverse 메서드가 뒤바뀌었거나(forward 메서드는 데이터를 잠재 공간으로, x -> z 방향으로 "
        "보내야 함) 로그 행렬식이 반대 방향의 것이어서, 학습이 엉뚱한 부피 변화를 보상합니다.",
    "realnvp.training.no_log_det":
        "여러분의 -log_prob(x).mean() 손실로 Adam을 {steps}단계 돌린 뒤, 실제 음의 로그 우도는 학습 전 "
        "{before:.3f}, 학습 후 {after:.3f}입니다 (여러분의 손실: {first:.3f} -> {last:.3f}). 적어도 0.5 nat은 줄어야 합니다. "
        "지금 log_prob 메서드는 z의 기저 밀도뿐이라, 이를 최대화하면 z를 0 쪽으로 줄이기만 합니다. 변수 변환 공식에 따라 "
        "forward의 log_det 값을 더하세요.",
    "realnvp.device":
        "{what}: 모델과 입력은 {expected}에 있는데 반환된 텐서는 {got}에 있습니다. 텐서는 device=x.device(또는 "
        "`device` 인자)로 만들고, 장치를 코드에 고정하지 마세요.",
    "realnvp.logit.value.no_squeeze":
        "logit_transform(x, alpha={alpha}): 압축 없이 logit(x)를 반환합니다. 출력 y는 logit(alpha + (1 - 2 alpha) x)여야 "
        "x = 0과 x = 1에서도 유한합니다 (최대 차이 {worst:.3g}; 받은 값 {got}, 기대값 {expected}).",
    "realnvp.logit.value.other":
        "logit_transform(x, alpha={alpha}): y와 logit(alpha + (1 - 2 alpha) x)의 차이가 최대 {worst:.3g}입니다 "
        "(받은 값 {got}, 기대값 {expected}). 인자로 받은 alpha를 쓰고 있는지 확인하세요.",
    "realnvp.bpd.no_log256":
        "bits_per_dim(log_prob={log_prob}, dim={dim}): 결과가 정확히 8만큼 작습니다 (받은 값 {got}, 기대값 "
        "{expected}). dim * log 256 항이 빠졌습니다. [0, 1] 범위의 데이터는 8비트 픽셀에서 왔으므로, 8비트 데이터의 "
        "밀도는 256^dim배 작습니다.",
    "realnvp.bpd.nats":
        "bits_per_dim(log_prob={log_prob}, dim={dim}): 결과가 차원당 nat 단위입니다 (받은 값 {got}, 기대값 "
        "{expected}). dim이 아니라 dim * log 2로 나누세요.",
    "realnvp.bpd.no_dim":
        "bits_per_dim(log_prob={log_prob}, dim={dim}): 결과가 차원당 값이 아니라 이미지 하나당 값입니다 (받은 값 "
        "{got}, 기대값 {expected}). dim * log 2로 나누세요.",
    "realnvp.bpd.sign":
        "bits_per_dim(log_prob={log_prob}, dim={dim}): +log_prob 값을 쓰고 있습니다 (받은 값 {got}, 기대값 "
        "{expected}). 차원당 비트 수는 8비트 데이터의 음의 로그 우도를 비트 단위로, 차원당 잰 값입니다.",
    "realnvp.bpd.other":
        "bits_per_dim(log_prob={log_prob}, dim={dim}): 반환값은 {got}, 원소별 기대값은 {expected}입니다. 차원당 비트 "
        "수는 8비트 데이터(차원마다 256단계를 반영하는 역양자화 항 포함)의 음의 로그 우도를 비트 단위로, 차원당 잰 "
        "값입니다.",
    "realnvp.actnorm.init.none":
        "ActNorm: 첫 배치로 초기화되지 않아 출력이 입력과 같습니다 (채널 {channel}: 평균 {mean:.3g}, 표준편차 "
        "{std:.3g}). 첫 forward 호출에서 그 배치로 bias와 scale을 정해, 출력이 채널마다 평균 0, 분산 1이 되게 하세요.",
    "realnvp.actnorm.init.global":
        "ActNorm: 채널마다 따로가 아니라 배치 전체의 평균과 표준편차 하나로 정규화했습니다. 첫 호출 뒤 채널 "
        "{channel}의 평균은 {mean:.3g}, 표준편차는 {std:.3g}입니다 (입력: 평균 {in_mean:.3g}, 표준편차 "
        "{in_std:.3g}). 채널 차원은 남기고 (0, 2, 3)번 차원에 걸쳐 통계를 내세요.",
    "realnvp.actnorm.init.other":
        "ActNorm: 첫 호출 뒤의 출력은 채널마다 평균 0, 분산 1이어야 하는데, 채널 {channel}의 평균은 {mean:.3g}, "
        "표준편차는 {std:.3g}입니다 (입력: 평균 {in_mean:.3g}, 표준편차 {in_std:.3g}). ActNorm 층은 출력이 표준화되도록 "
        "첫 배치의 채널별 통계로 bias와 scale을 초기화합니다. 어느 통계가 bias를, 어느 통계가 scale을 정하는지, "
        "그리고 forward 메서드가 둘을 어떤 순서로 적용하는지 확인하세요.",
    "realnvp.actnorm.never_initialised":
        "첫 호출에서 배치를 그대로 돌려주어 데이터로 초기화된 적이 없음",
    "realnvp.actnorm.reinit":
        "ActNorm: 두 번째 호출에서 다시 초기화되었습니다. 다른 두 번째 배치의 출력이 첫 배치로 정한 scale과 bias를 "
        "쓰지 않고 또 정규화되었습니다 (채널별 평균 {mean}, 표준편차 {std}; 최대 차이 {worst:.3g}). 초기화는 한 번만 "
        "하고 그 사실을 기억해 두세요 (예: `initialized` 버퍼).",
    "realnvp.invconv.not_orthogonal":
        "InvertibleConv1x1: 회전 행렬로 초기화되지 않았습니다. W W^T와 I의 차이가 최대 {worst:.3g}이고 "
        "log|det W| = {log_abs_det:.3g}입니다 (회전 행렬이라면 |det W| = 1). 무작위 가우시안 행렬을 QR 분해해서 "
        "얻은 Q로 W를 초기화하세요 (torch.linalg.qr).",
    "realnvp.invconv.identity":
        "InvertibleConv1x1: 항등 행렬에서 시작합니다. 처음부터 채널이 섞이도록 행렬 W는 *무작위* 회전 행렬이어야 합니다 "
        "(무작위 가우시안 행렬의 QR 분해).",
    "realnvp.invconv.stale":
        "InvertibleConv1x1: 행렬 W가 바뀐 뒤에도 log_det 값이 초기화 때 값 그대로입니다 (받은 값 {got}, 기대값 "
        "{expected}). H * W * log|det W|는 __init__에서 한 번만 계산하지 말고, forward를 호출할 때마다 현재 W로 "
        "계산하세요 (torch.linalg.slogdet).",
}

# Check names as Korean students see them (the rubric's `name=` is the English one).
NAMES_KO = {
    "test_signatures": "생성자와 함수의 매개변수와 기본값이 규약과 같고, 기본값으로도 동작함",
    "test_coupling_mask": "AffineCoupling: mask 값이 1인 성분은 그대로 통과하면서 나머지 성분의 변환을 결정함",
    "test_coupling_invertible": "AffineCoupling: inverse 메서드가 forward를 정확히 되돌림",
    "test_coupling_log_det": "AffineCoupling: log_det 값이 샘플마다 log|det J|와 같음",
    "test_realnvp_every_dim": "RealNVP: mask 값이 층마다 번갈아 바뀌어 모든 차원이 변환됨",
    "test_realnvp_invertible": "RealNVP: inverse 메서드가 forward를 정확히 되돌림",
    "test_realnvp_log_det": "RealNVP: log_det 값이 샘플마다 전체 층 스택의 log|det J|와 같음",
    "test_realnvp_log_prob": "RealNVP: log_prob = z의 표준정규 로그 밀도 + log_det",
    "test_realnvp_sample": "RealNVP: sample 함수가 N(0, I) 잡음을 inverse로 변환함",
    "test_realnvp_training": "RealNVP: 학습하면 음의 로그 우도가 줄어듦",
    "test_realnvp_odd_dim": "RealNVP: 차원이 홀수이고 층이 3개여도 변환, 역변환, 로그 행렬식이 맞음",
    "test_devices": "출력이 모델과 입력과 같은 장치에 있음 (장치를 코드에 고정하지 않음)",
    "test_logit_value": "logit_transform: y = logit(alpha + (1 - 2 alpha) x)",
    "test_logit_log_det": "logit_transform: 샘플별 로그 행렬식",
    "test_bits_per_dim": "bits_per_dim: 알려진 값에서 결과가 맞음",
    "test_actnorm_init": "ActNorm: 첫 호출에서 채널마다 평균 0, 분산 1이 되도록 초기화함",
    "test_actnorm_init_once": "ActNorm: 첫 호출에서만 초기화함",
    "test_actnorm_invertible": "ActNorm: inverse 메서드가 forward를 정확히 되돌림",
    "test_actnorm_log_det": "ActNorm: 샘플마다 log_det = H * W * sum(log|scale|)",
    "test_invconv_rotation": "InvertibleConv1x1: 무작위 회전 행렬로 초기화됨",
    "test_invconv_invertible": "InvertibleConv1x1: 행렬 W가 더 이상 회전 행렬이 아니어도 inverse 메서드가 forward를 정확히 되돌림",
    "test_invconv_log_det": "InvertibleConv1x1: 행렬 W가 바뀐 뒤에도 log_det = H * W * log|det W|",
}
