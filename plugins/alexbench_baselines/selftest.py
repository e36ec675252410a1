"""The baselines plugin's self-test (``alexbench doctor``): scikit-learn fits the TF-IDF logistic
regression the baselines use, on four posts, in the doctor's child process."""

from __future__ import annotations

from typing import Any

from alexbench.selftest import SelfTestFailed

FIX = "reinstall scikit-learn, scipy and numpy: bash scripts/install.sh"


def check_sklearn() -> dict[str, Any]:
    import numpy
    import scipy
    import sklearn
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    texts = ["tested positive for covid", "my covid test is positive", "cases rising in the city", "wear a mask"]
    labels = [1, 1, 0, 0]
    vectors = TfidfVectorizer().fit_transform(texts)
    model = LogisticRegression(class_weight="balanced").fit(vectors, labels)
    if list(model.predict(vectors)) != labels:
        raise SelfTestFailed("a TF-IDF logistic regression does not fit four separable posts", FIX)
    facts: dict[str, Any] = {"scikit-learn": sklearn.__version__, "scipy": scipy.__version__, "numpy": numpy.__version__,
                             "fit": "4 posts, predicted back exactly"}
    try:
        from threadpoolctl import threadpool_info

        facts["BLAS"] = "; ".join(f"{p.get('internal_api')} {p.get('version')} ({p.get('architecture')}, "
                                  f"{p.get('num_threads')} threads)" for p in threadpool_info())
    except ImportError:
        pass
    return facts
