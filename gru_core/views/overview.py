"""The Overview page's content that is more than prose: the GRU's equations."""

# The four GRU equations in PyTorch's convention (the reset gate multiplies W_hn h + b_hn).
GRU_EQUATIONS = (
    r"r_t = \sigma\left(W_{ir}\,x_t + b_{ir} + W_{hr}\,h_{t-1} + b_{hr}\right)",
    r"z_t = \sigma\left(W_{iz}\,x_t + b_{iz} + W_{hz}\,h_{t-1} + b_{hz}\right)",
    r"n_t = \tanh\left(W_{in}\,x_t + b_{in}"
    r" + r_t \odot \left(W_{hn}\,h_{t-1} + b_{hn}\right)\right)",
    r"h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}",
)
