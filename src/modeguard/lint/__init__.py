"""Static analysis of training code for mode bugs (``modeguard lint``).

Never imports or executes the code it reads: everything works on ``ast`` trees.
"""
