"""E4: the exam's network, a two-layer LSTM with a hidden state of 500 on inputs of 300."""

import ml_collections


def get_config():
    config = ml_collections.ConfigDict()
    config.cell = "lstm"  # or "gru", "rnn" (a vanilla RNN)
    config.input_size = 300  # D of the first layer
    config.hidden_size = 500  # H
    config.num_layers = 2
    config.bidirectional = False
    return config
