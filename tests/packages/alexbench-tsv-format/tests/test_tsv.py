from alexbench.testing import RendererContract


class TestTsv(RendererContract):
    renderer = "tsv"
