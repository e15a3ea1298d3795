"""The computations behind the notebooks' experiments, one module per notebook topic.

An experiment whose claim is checked on 20 seeds by ``tests/claims/`` keeps its computation here, as
a function of the student's functions (or torch built-ins) and a seed, so that the notebook and the
test run the same code with the same thresholds. Nothing here calls ``labkit.reference``: the student
kit ships this package.
"""
