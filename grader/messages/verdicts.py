"""Messages of the verdict helpers in grader/api.py and the plugin: shared by every rubric."""

EN = {
    "verdicts.not_tensor_what": "{what}: your code returned a {got} where the contract asks for a tensor.",
    "verdicts.not_finite": "{what} contains NaN or infinite values ({count} of {total} elements). Look for a log of 0, "
                         "a division by zero or an exp that overflows.",
    "verdicts.shape": "{what} has shape {got}; the contract asks for {expected}.",
    "verdicts.needs_first": "skipped: this check needs {name} first ({cause}).",
    "verdicts.hung_before": "skipped: {name} did not return within {seconds:.0f} s in an earlier check ({check}), "
                          "so the grader did not call it again.",
    "verdicts.grader_fault": "the grader could not examine your submission here: its own helper failed "
                           "({exc_type}: {message}). This is not your fault; the course staff has been told.",
    "verdicts.integrity": "the grader's observations disagree with your code's own outputs ({detail}). "
                        "Grader helpers must not be replaced or imitated; this grading is marked for review.",
    "verdicts.device_meta": "With the model and inputs on another device (PyTorch's meta device), these parts mixed in "
                            "or returned a tensor made on a fixed device: {what}. A device chosen inside a function "
                            "(for example from torch.cuda.is_available()) breaks on any other device; follow the "
                            "input's device, the model's, or the device argument.",
}

KO = {
    "verdicts.not_tensor_what": "{what}: 규약은 텐서를 요구하는데 코드가 반환한 값의 형식은 {got}입니다.",
    "verdicts.not_finite": "{what}에 NaN 또는 무한대 값이 있습니다 (원소 {total}개 중 {count}개). 0의 로그, 0으로 나누기, "
                         "넘치는 exp가 없는지 확인하세요.",
    "verdicts.shape": "{what}의 shape은 {got}이지만 규약이 요구하는 shape은 {expected}입니다.",
    "verdicts.needs_first": "건너뜀: 이 항목은 {name}부터 구현되어야 채점할 수 있습니다 ({cause}).",
    "verdicts.hung_before": "건너뜀: 앞선 항목({check})에서 {name} 호출이 {seconds:.0f}초 안에 끝나지 않아서 "
                          "다시 호출하지 않았습니다.",
    "verdicts.grader_fault": "채점기가 여기서 제출물을 검사하지 못했습니다. 채점기 자체의 도우미 코드가 실패했습니다 "
                           "({exc_type}: {message}). 학생의 잘못이 아니며, 조교에게 전달됩니다.",
    "verdicts.integrity": "채점기가 관찰한 내용과 코드가 실제로 내놓은 출력이 서로 맞지 않습니다 ({detail}). "
                        "채점기의 도우미 코드를 바꾸거나 흉내 내면 안 됩니다. 이 채점 결과는 검토 대상으로 표시됩니다.",
    "verdicts.device_meta": "모델과 입력을 다른 장치(PyTorch의 meta 장치)에 두었더니, 다음 부분에서 고정된 장치에 만든 "
                            "텐서가 섞이거나 반환되었습니다: {what}. 함수 안에서 장치를 정하면 (예: "
                            "torch.cuda.is_available()로 고르기) 다른 장치에서는 동작하지 않습니다. 입력이나 모델의 "
                            "장치, 또는 device 인자를 따르세요.",
}
