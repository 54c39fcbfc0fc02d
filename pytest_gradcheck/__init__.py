"""pytest-gradcheck: check reverse-mode gradients against high-precision central differences."""
