"""Feedback of the VAE rubric (lecture week 3), in English and Korean.

Messages name the mistake and the concept, never the line that fixes it. In Korean, no particle
follows a value: a value is followed by a noun (값, 형식, 함수) or stands after a colon, so the
sentence reads right whatever the value is.
"""

EN = {
    # shapes, types, signatures
    "vae.not_tensor": "{what} should be a tensor, but your code returned a {got}.",
    "vae.dtype": "wrong dtype: {what} came back as {got}; the contract's tensors are floating point (float32, or "
                 "float64 if you compute more precisely). Do not convert it to an integer or half-precision type.",
    "vae.signature": "{what} does not match the contract: expected {expected}. Keep the names and defaults of "
                     "ASSIGNMENTS.md exactly.",
    "vae.not_module": "VAE should be a subclass of nn.Module, but it is a {got}.",
    # encoder, decoder, forward
    "vae.encode_tuple": "encode(x) with x of shape {kind} must return the pair (mu, logvar).",
    "vae.encode_layout": "encode gives different (mu, logvar) for the same images passed flat (B, input_dim) and as "
                         "(B, 1, H, W). Flatten each image into one row in the same pixel order for both layouts.",
    "vae.encode_ignores_x": "encode returns the same mu for different images: mu does not depend on x, so the "
                            "approximate posterior q(z|x) ignores the data and the latent code carries no "
                            "information about the image.",
    "vae.hardcoded_size": "encode failed at input_dim=36, latent_dim=3 ({error}). Every size must come from the "
                          "constructor's arguments: look for a literal 784, 28 or 20.",
    "vae.decode_range": "decode must return Bernoulli means in (0, 1), but values range from {low:.3g} to {high:.3g}. "
                        "Did you forget the sigmoid at the end of the decoder (or return logits)?",
    "vae.decode_ignores_z": "decode returns the same output for different latent codes z: the decoder ignores z.",
    "vae.forward_tuple": "forward(x) must return the triple (recon, mu, logvar); your code returned {got}.",
    "vae.forward_inconsistent": "For the same x and the same random state, forward(x) returns (mu, logvar) that differ "
                                "from encode(x): forward should get mu and logvar from encode.",
    "vae.forward_deterministic": "forward(x) gives the same reconstruction for every random state although "
                                 "reparameterize draws noise: forward decodes mu instead of a sample z from q(z|x). "
                                 "Without sampling the model is a plain autoencoder, not a VAE.",
    # reparameterization
    "vae.reparam_shape": "reparameterize returned z of shape {got}; it must have the shape of mu.",
    "vae.reparam_no_grad": "No gradient flows from z back to {which}. The reparameterization trick exists for exactly "
                           "this: z must stay in the autograd graph of mu and logvar (no torch.no_grad(), .detach() "
                           "or .data on the way).",
    "vae.reparam_ignores": "z does not depend on {which}: changing {which} leaves z unchanged. z must move with mu "
                           "(its mean) and with logvar (its spread).",
    "vae.reparam_grad_mismatch": "The gradient autograd computes for {which} ({autograd:.6g} along a test direction) is "
                                 "not the derivative of the z your code returns ({derivative:.6g}): part of the "
                                 "computation is cut from the graph (.detach(), .data, a straight-through trick).",
    "vae.reparam_no_noise": "reparameterize returns z = mu: no noise is added, so the model never samples from q(z|x).",
    "vae.reparam_same_noise": "Two calls of reparameterize used the same noise: eps is drawn once and reused. Every "
                              "call must draw fresh noise.",
    "vae.reparam_shared_rows": "Every sample in the batch gets the same noise eps: draw noise with the shape of mu, one "
                               "value per element.",
    "vae.reparam_correlated": "The noise of different latent dimensions is correlated (|corr| up to {corr:.2f}): draw "
                              "independent noise for every element, with the shape of mu, not one number per sample.",
    "vae.reparam_std": "z does not have variance exp(logvar). {hint}",
    "vae.reparam_hint_variance": "Your standard deviation is exp(logvar), which is the variance: the standard "
                                 "deviation is its square root.",
    "vae.reparam_hint_no_exp": "Your standard deviation is logvar / 2 instead of exp(logvar / 2): logvar is a "
                               "logarithm, so the exponential is missing.",
    "vae.reparam_hint_logvar": "Your standard deviation is logvar itself: logvar is the log of the variance.",
    "vae.reparam_hint_sign": "Your standard deviation is exp(-logvar / 2), the inverse of the right one: check the "
                             "sign in the exponent.",
    "vae.reparam_moments": "The noise (z - mu) / exp(logvar / 2) should be standard normal, but it has mean {mean:.3f} "
                           "and variance {var:.3f}.",
    "vae.reparam_not_normal": "The noise (z - mu) / exp(logvar / 2) is not standard normal (it looks uniform): "
                              "eps ~ N(0, I) needs Gaussian noise (torch.randn_like), not torch.rand_like.",
    # KL and loss
    "vae.kl_scalar": "kl_divergence must return one KL value per sample, shape (B,), but returned a scalar ({got:.4g}; "
                     "the per-sample values sum to {per_sample_sum:.4g}). Sum over the latent dimensions only.",
    "vae.kl_value": "kl_divergence is off by up to {worst:.4g} from KL(N(mu, diag(exp(logvar))) || N(0, I)), the "
                    "closed form of the lecture (Kingma & Welling 2013, appendix B). {hint}",
    "vae.kl_hint_sign": "Your values are the exact negative: a KL divergence is never negative; check the sign.",
    "vae.kl_hint_mean": "Your values equal the KL divided by the latent size: sum over latent dimensions, do not "
                        "average.",
    "vae.kl_hint_half": "Your values are twice the KL: the factor 1/2 of the Gaussian KL is missing.",
    "vae.kl_hint_logstd": "Your values match a formula that treats logvar as log(std): logvar is the log of the "
                          "variance.",
    "vae.kl_hint_none": "Compare your formula term by term with the closed form.",
    "vae.loss_not_scalar": "loss_function must return a scalar (a 0-dim tensor); it returned {got}.",
    "vae.loss_value": "loss_function returned {got:.5g}, but the negative ELBO (BCE summed over pixels and batch plus "
                      "KL summed over the batch) is {expected:.5g}. {hint}",
    "vae.loss_hint_no_kl": "Your value equals the reconstruction term alone: add the KL term.",
    "vae.loss_hint_bce_mean": "Your reconstruction term is averaged over pixels: the log-likelihood of an image is "
                              "the sum over its pixels.",
    "vae.loss_hint_kl_mean": "Your KL term is averaged over the batch while the BCE is summed: sum both over the batch.",
    "vae.loss_hint_kl_sign": "The KL term is subtracted: the negative ELBO adds it (reconstruction term + KL).",
    "vae.loss_hint_batch_mean": "Your loss is the negative ELBO divided by the batch size: the contract asks for the "
                                "sum over the batch.",
    "vae.loss_hint_mse": "Your reconstruction term is a squared error: a Bernoulli decoder's log-likelihood is the "
                         "binary cross-entropy.",
    "vae.loss_hint_mse_weighted_kl": "Your loss is a squared error plus a weighted KL (weight {weight:.3g}), a "
                                     "Gaussian-decoder or beta-VAE loss: the contract's decoder is Bernoulli (binary "
                                     "cross-entropy) and the ELBO weighs the KL by 1.",
    "vae.loss_hint_kl_weight": "Your KL term is multiplied by {weight:.3g}: the ELBO weighs it by 1 (a beta-VAE is "
                               "another objective).",
    "vae.loss_hint_swapped": "The arguments of the binary cross-entropy are swapped: the prediction is recon (the "
                             "decoder's Bernoulli means) and the target is x.",
    "vae.loss_hint_continuous_bernoulli": "Your loss includes the continuous Bernoulli's normalising constant "
                                          "(Loaiza-Ganem & Cunningham 2019): the contract's likelihood is the plain "
                                          "Bernoulli, without it.",
    "vae.loss_hint_none": "Check both terms and their reductions; x may arrive as (B, 1, H, W) while recon is "
                          "(B, input_dim).",
    "vae.loss_no_grad": "loss_function returned a value without gradients (.item(), .detach() or numpy on the way?): "
                        "training needs loss.backward().",
    # training
    "vae.train_nan": "Training on a small fixed batch produced a non-finite loss at step {step}: look for log(0) or an "
                     "exploding logvar.",
    "vae.train_no_progress": "After {steps} Adam steps with your loss_function on one fixed batch, training did not "
                             "lower the negative ELBO of your model's outputs enough: {first:.5g} before, {last:.5g} "
                             "after (less than 10% better). Check that gradients reach every parameter of the encoder "
                             "and the decoder.",
    "vae.integrity_train": "the grader's observations disagree with your code's own outputs: its training helper "
                           "reported a first loss of {claimed}, but your loss_function returns {answered:.5g} for the "
                           "same model, batch and random state. Grader helpers must not be replaced or imitated; this "
                           "grading is marked for review.",
    "vae.integrity_reparam": "the grader's observations disagree with your code's own outputs: its gradient helper "
                             "reported a z (or gradients) that reparameterize does not return for the same inputs and "
                             "random state. Grader helpers must not be replaced or imitated; this grading is marked "
                             "for review.",
    # sampling and devices
    "vae.sample_device": "sample(..., device='{expected}') returned a tensor on {got}: the latent codes must be created "
                         "on the device sample is given.",
    "vae.sample_range": "sample must return decoder means in [0, 1], but values range from {low:.3g} to {high:.3g}, "
                        "although your decode stays in range: sample should return what decode gives.",
    "vae.sample_distribution": "Your samples are not distributed like decode(z) with z ~ N(0, I) (two-sample KS test, "
                               "p = {p:.2g}): the prior is the standard normal, neither uniform nor zero nor scaled.",
    "vae.sample_not_fresh": "Two calls of sample returned identical images: draw new latent codes on every call.",
    "vae.device": "{what} came back on {got} although its inputs were on {expected}: do not hard-code a device; follow "
                  "the input's device or the model's.",
    "vae.device_meta": "With inputs and model on another device (PyTorch's meta device), these functions mixed in a "
                       "tensor created on the CPU: {what}. A device chosen inside a function (for example from "
                       "torch.cuda.is_available()) breaks on any other device; follow the input's device or the "
                       "model's.",
}

KO = {
    # shapes, types, signatures
    "vae.not_tensor": "{what}: 텐서를 반환해야 하는데 코드가 반환한 값의 형식은 {got}입니다.",
    "vae.dtype": "자료형이 잘못되었습니다. {what}: 반환된 텐서의 자료형은 {got}입니다. 규약의 텐서는 부동소수점입니다 "
                 "(float32, 더 정밀하게 계산한다면 float64). 정수나 반정밀도 형식으로 바꾸지 마세요.",
    "vae.signature": "규약과 다른 부분: {what}. 기대하는 형태: {expected}. ASSIGNMENTS.md의 이름과 기본값을 그대로 "
                     "지켜 주세요.",
    "vae.not_module": "VAE는 nn.Module을 상속한 클래스여야 하는데, 주어진 객체의 형식은 {got}입니다.",
    # encoder, decoder, forward
    "vae.encode_tuple": "모양이 {kind}인 x를 넣은 encode(x)는 (mu, logvar) 두 텐서를 반환해야 합니다.",
    "vae.encode_layout": "같은 이미지를 (B, input_dim)으로 펼쳐 넣을 때와 (B, 1, H, W)로 넣을 때 encode의 (mu, logvar)가 "
                         "다릅니다. 두 경우 모두 같은 픽셀 순서로 이미지 한 장을 한 행으로 펼치세요.",
    "vae.encode_ignores_x": "서로 다른 이미지를 넣어도 encode가 같은 mu를 돌려줍니다. mu가 x에 의존하지 않으니 근사 "
                            "사후분포 q(z|x)가 데이터를 무시하고, 잠재 코드에는 이미지에 대한 정보가 담기지 않습니다.",
    "vae.hardcoded_size": "input_dim=36, latent_dim=3으로 만든 모델에서 encode가 실패했습니다 ({error}). 모든 크기는 "
                          "생성자 인자에서 가져와야 합니다. 코드에 784, 28, 20 같은 숫자를 직접 쓴 곳이 있는지 "
                          "확인하세요.",
    "vae.decode_range": "decode는 (0, 1) 범위의 베르누이 평균을 반환해야 하는데, 반환값의 범위는 최소 {low:.3g}, "
                        "최대 {high:.3g}입니다. 디코더 끝의 sigmoid를 빠뜨렸거나 logit을 그대로 반환하고 있지 "
                        "않은지 확인하세요.",
    "vae.decode_ignores_z": "서로 다른 잠재 코드 z를 넣어도 decode의 출력이 같습니다. 디코더가 z를 무시하고 있습니다.",
    "vae.forward_tuple": "forward(x)는 (recon, mu, logvar) 세 값을 반환해야 합니다. 코드가 반환한 것: {got}.",
    "vae.forward_inconsistent": "같은 x와 같은 난수 상태에서 forward(x)가 돌려준 (mu, logvar)가 encode(x)의 결과와 "
                                "다릅니다. forward는 mu와 logvar를 encode에서 받아 써야 합니다.",
    "vae.forward_deterministic": "reparameterize는 잡음을 뽑는데도 forward(x)의 재구성은 난수 상태와 관계없이 "
                                 "항상 같습니다. forward가 q(z|x)에서 뽑은 z가 아니라 mu를 디코딩하고 있습니다. "
                                 "샘플링하지 않으면 VAE가 아니라 평범한 오토인코더입니다.",
    # reparameterization
    "vae.reparam_shape": "reparameterize가 반환한 z의 모양: {got}. z는 mu와 같은 모양이어야 합니다.",
    "vae.reparam_no_grad": "z에서 다음 입력으로 기울기가 흐르지 않습니다: {which}. 재매개변수화 기법의 목적이 바로 "
                           "이것입니다. z가 mu와 logvar의 autograd 그래프 안에 남아 있어야 합니다 (중간에 "
                           "torch.no_grad(), .detach(), .data를 쓰지 마세요).",
    "vae.reparam_ignores": "z가 다음 입력에 의존하지 않습니다: {which}. 이 입력을 바꿔도 z가 그대로입니다. z는 평균인 "
                           "mu와 퍼짐 정도인 logvar를 따라 움직여야 합니다.",
    "vae.reparam_grad_mismatch": "autograd가 계산한 기울기(입력 {which}, 시험 방향으로 {autograd:.6g})가 코드가 "
                                 "반환하는 z의 실제 도함수(같은 방향으로 {derivative:.6g})와 다릅니다. 계산의 일부가 "
                                 "그래프에서 잘려 있습니다 (.detach(), .data, straight-through 기법 등).",
    "vae.reparam_no_noise": "reparameterize가 z = mu를 반환합니다. 잡음이 더해지지 않으니 모델이 q(z|x)에서 "
                            "샘플링하지 않습니다.",
    "vae.reparam_same_noise": "reparameterize를 두 번 호출했는데 같은 잡음이 쓰였습니다. eps를 한 번만 뽑아 다시 쓰고 "
                              "있습니다. 호출할 때마다 잡음을 새로 뽑아야 합니다.",
    "vae.reparam_shared_rows": "배치의 모든 샘플이 같은 잡음 eps를 받습니다. 잡음은 mu와 같은 모양으로, 원소마다 하나씩 "
                               "뽑으세요.",
    "vae.reparam_correlated": "서로 다른 잠재 차원의 잡음이 상관되어 있습니다 (상관계수 절댓값 최대 {corr:.2f}). "
                              "샘플마다 숫자 하나를 뽑지 말고, mu와 같은 모양으로 원소마다 독립인 잡음을 뽑으세요.",
    "vae.reparam_std": "z의 분산이 exp(logvar)가 아닙니다. {hint}",
    "vae.reparam_hint_variance": "표준편차로 exp(logvar)를 쓰고 있는데, 이것은 분산입니다. 표준편차는 분산의 "
                                 "제곱근입니다.",
    "vae.reparam_hint_no_exp": "표준편차로 exp(logvar / 2) 대신 logvar / 2를 쓰고 있습니다. logvar는 로그 값이므로 "
                               "지수 함수가 빠진 것입니다.",
    "vae.reparam_hint_logvar": "표준편차로 logvar 자체를 쓰고 있습니다. logvar는 분산의 로그입니다.",
    "vae.reparam_hint_sign": "표준편차로 올바른 값의 역수인 exp(-logvar / 2)를 쓰고 있습니다. 지수의 부호를 "
                             "확인하세요.",
    "vae.reparam_moments": "잡음 (z - mu) / exp(logvar / 2)는 표준정규분포를 따라야 하는데, 평균은 {mean:.3f}, "
                           "분산은 {var:.3f}입니다.",
    "vae.reparam_not_normal": "잡음 (z - mu) / exp(logvar / 2)가 표준정규분포가 아닙니다 (균등분포처럼 보입니다). "
                              "eps ~ N(0, I)에는 torch.rand_like가 아니라 가우시안 잡음(torch.randn_like)이 "
                              "필요합니다.",
    # KL and loss
    "vae.kl_scalar": "kl_divergence는 샘플마다 KL 값 하나씩, 즉 모양 (B,)인 텐서를 반환해야 하는데 스칼라 하나를 "
                     "반환했습니다 (반환값 {got:.4g}, 샘플별 값의 합 {per_sample_sum:.4g}). 잠재 차원에 대해서만 "
                     "더하세요.",
    "vae.kl_value": "kl_divergence의 결과가 KL(N(mu, diag(exp(logvar))) || N(0, I))에서 최대 {worst:.4g}만큼 "
                    "벗어납니다. 강의에서 다룬 닫힌 형태(Kingma & Welling 2013, 부록 B)를 확인하세요. {hint}",
    "vae.kl_hint_sign": "값의 부호가 정확히 반대입니다. KL 발산은 음수가 될 수 없으니 부호를 확인하세요.",
    "vae.kl_hint_mean": "값이 KL을 잠재 차원 수로 나눈 것과 같습니다. 잠재 차원에 대해 평균하지 말고 더하세요.",
    "vae.kl_hint_half": "값이 KL의 두 배입니다. 가우시안 KL의 계수 1/2이 빠졌습니다.",
    "vae.kl_hint_logstd": "logvar를 표준편차의 로그로 취급한 식과 값이 같습니다. logvar는 분산의 로그입니다.",
    "vae.kl_hint_none": "작성한 식을 닫힌 형태와 항별로 비교해 보세요.",
    "vae.loss_not_scalar": "loss_function은 스칼라(0차원 텐서)를 반환해야 합니다. 코드가 반환한 것: {got}.",
    "vae.loss_value": "loss_function의 반환값은 {got:.5g}인데, 음의 ELBO(픽셀과 배치에 대해 합한 BCE와 배치에 대해 "
                      "합한 KL의 합)는 {expected:.5g}입니다. {hint}",
    "vae.loss_hint_no_kl": "값이 재구성 항 하나와 같습니다. KL 항을 더하세요.",
    "vae.loss_hint_bce_mean": "재구성 항을 픽셀에 대해 평균했습니다. 이미지 한 장의 로그 우도는 픽셀별 로그 우도의 "
                              "합입니다.",
    "vae.loss_hint_kl_mean": "BCE는 배치에 대해 더했는데 KL은 평균했습니다. 두 항 모두 배치에 대해 더하세요.",
    "vae.loss_hint_kl_sign": "KL 항을 빼고 있습니다. 음의 ELBO는 재구성 항에 KL을 더한 값입니다.",
    "vae.loss_hint_batch_mean": "손실이 음의 ELBO를 배치 크기로 나눈 값입니다. 규약은 배치에 대한 합을 요구합니다.",
    "vae.loss_hint_mse": "재구성 항이 제곱 오차입니다. 베르누이 디코더의 로그 우도는 이진 교차 엔트로피입니다.",
    "vae.loss_hint_mse_weighted_kl": "손실이 제곱 오차와 가중치를 곱한 KL의 합입니다 (가중치 {weight:.3g}). 가우시안 "
                                     "디코더나 beta-VAE의 손실입니다. 규약의 디코더는 베르누이(이진 교차 엔트로피)이고, "
                                     "ELBO에서 KL의 가중치는 1입니다.",
    "vae.loss_hint_kl_weight": "KL 항에 곱해진 가중치: {weight:.3g}. ELBO에서 KL의 가중치는 1입니다 (beta-VAE는 다른 "
                               "목적 함수입니다).",
    "vae.loss_hint_swapped": "이진 교차 엔트로피의 두 인자가 뒤바뀌었습니다. 예측값은 recon(디코더의 베르누이 "
                             "평균)이고 정답은 x입니다.",
    "vae.loss_hint_continuous_bernoulli": "손실에 연속 베르누이(continuous Bernoulli) 분포의 정규화 상수가 들어 "
                                          "있습니다 (Loaiza-Ganem & Cunningham 2019). 규약의 우도는 정규화 상수가 "
                                          "없는 보통의 베르누이입니다.",
    "vae.loss_hint_none": "두 항과 각각을 합하는 방식을 확인하세요. x는 (B, 1, H, W) 모양으로, recon은 "
                          "(B, input_dim) 모양으로 들어올 수 있습니다.",
    "vae.loss_no_grad": "loss_function이 기울기가 없는 값을 반환했습니다 (중간에 .item(), .detach(), numpy를 "
                        "쓰지 않았나요?). 학습하려면 loss.backward()를 호출할 수 있어야 합니다.",
    # training
    "vae.train_nan": "작은 고정 배치로 학습하는 중 {step}단계에서 손실이 유한하지 않은 값이 되었습니다. log(0)이나 "
                     "발산하는 logvar가 없는지 확인하세요.",
    "vae.train_no_progress": "고정된 배치 하나로 loss_function을 써서 Adam {steps}단계를 학습했지만, 모델 출력의 음의 "
                             "ELBO가 충분히 줄지 않았습니다 (학습 전 {first:.5g}, 학습 후 {last:.5g}, 10% 미만 개선). "
                             "인코더와 디코더의 모든 파라미터에 기울기가 전달되는지 확인하세요.",
    "vae.integrity_train": "채점기가 관찰한 내용과 코드가 실제로 내놓은 출력이 서로 맞지 않습니다. 채점기의 학습 "
                           "도우미가 보고한 첫 손실: {claimed}. 같은 모델, 배치, 난수 상태에서 loss_function이 "
                           "반환하는 값: {answered:.5g}. 채점기의 도우미 코드를 바꾸거나 흉내 내면 안 됩니다. 이 채점 "
                           "결과는 검토 대상으로 표시됩니다.",
    "vae.integrity_reparam": "채점기가 관찰한 내용과 코드가 실제로 내놓은 출력이 서로 맞지 않습니다. 채점기의 기울기 "
                             "도우미가 보고한 z나 기울기가, 같은 입력과 난수 상태에서 reparameterize가 실제로 "
                             "반환하는 값과 다릅니다. 채점기의 도우미 코드를 바꾸거나 흉내 내면 안 됩니다. 이 채점 "
                             "결과는 검토 대상으로 표시됩니다.",
    # sampling and devices
    "vae.sample_device": "sample(..., device='{expected}')를 호출했는데 반환된 텐서의 장치는 {got}입니다. 잠재 코드는 "
                         "sample이 받은 장치에서 만들어야 합니다.",
    "vae.sample_range": "sample은 [0, 1] 범위의 디코더 평균을 반환해야 하는데, 반환값의 범위는 최소 {low:.3g}, "
                        "최대 {high:.3g}입니다. decode의 출력은 범위 안에 있으니, sample은 decode가 준 값을 그대로 "
                        "반환해야 합니다.",
    "vae.sample_distribution": "샘플의 분포가 z ~ N(0, I)일 때의 decode(z)와 다릅니다 (두 표본 KS 검정, p = {p:.2g}). "
                               "사전분포는 표준정규분포입니다. 균등분포나 0, 크기를 바꾼 분포가 아닙니다.",
    "vae.sample_not_fresh": "sample을 두 번 호출했는데 같은 이미지가 나왔습니다. 호출할 때마다 잠재 코드를 새로 "
                            "뽑으세요.",
    "vae.device": "입력은 {expected} 장치에 있었는데 다음 결과는 {got} 장치에서 돌아왔습니다: {what}. 장치를 "
                  "하드코딩하지 말고 입력이나 모델의 장치를 따르세요.",
    "vae.device_meta": "입력과 모델을 다른 장치(PyTorch의 meta 장치)에 두었더니, 다음 함수에서 CPU에 만든 텐서가 "
                       "섞였습니다: {what}. 함수 안에서 장치를 정하면 (예: torch.cuda.is_available()로 고르기) 다른 "
                       "장치에서는 동작하지 않습니다. 입력이나 모델의 장치를 따르세요.",
}

# Check names as Korean students see them (the rubric's `name=` is the English one).
NAMES_KO = {
    "test_signatures": "VAE, kl_divergence, loss_function, sample의 시그니처와 기본값이 규약과 같음",
    "test_encode_shapes": "encode가 펼친 입력과 이미지 입력 모두에서 모양 (B, latent_dim)인 (mu, logvar)를 반환하고, "
                          "mu가 x에 의존함",
    "test_decode_range": "decode가 z에 따라 달라지는 (0, 1) 범위의 베르누이 평균을 모양 (B, input_dim)으로 반환함",
    "test_forward": "forward(x)가 encode와 일관된 (recon, mu, logvar)를 반환하고 z를 샘플링함",
    "test_reparameterize_gradients": "reparameterize가 mu와 logvar에 대해 미분 가능함 (autograd 기울기가 z의 "
                                     "도함수와 같음)",
    "test_reparameterize_statistics": "reparameterize의 z가 평균 mu, 분산 exp(logvar)를 따르고, 원소마다 새로 뽑은 "
                                      "독립 잡음을 씀",
    "test_kl_divergence": "kl_divergence가 샘플마다 KL(N(mu, diag(exp(logvar))) || N(0, I))와 같음",
    "test_loss_function_value": "loss_function이 음의 ELBO, 즉 BCE 합과 KL의 합을 배치 전체에 대해 더한 값임",
    "test_loss_function_image_input": "loss_function이 기본 크기의 이미지 모양 x (B, 1, 28, 28)를 받음",
    "test_loss_function_differentiable": "loss_function이 기울기를 가진 0차원 텐서를 반환함",
    "test_training_decreases_loss": "작은 고정 배치로 학습하면 모델 출력의 음의 ELBO가 줄어듦",
    "test_sample_from_prior": "sample이 z ~ N(0, I)를 디코딩함: 모양, 범위, 장치, 분포",
    "test_sample_default_shape": "기본 크기에서 sample이 (n, 1, 28, 28) 모양의 이미지를 반환함",
    "test_device_follows_input": "모든 출력이 입력과 같은 장치에 있음 (장치를 하드코딩하지 않음)",
}
