"""Public Keras examples, run with only their imports changed (`import lstmcore as keras`).

Each test body follows its example line by line (keras-io: bidirectional_lstm_imdb, addition_rnn,
lstm_seq2seq, timeseries_weather_forecasting; a DanQ-style Conv1D + BiLSTM classifier as the biology
papers write it), on synthetic data of the example's shapes, scaled down so the suite stays quick.
What is checked is that the script runs as written and that its model learns.
"""
import numpy as np

import lstmcore as keras
from lstmcore import layers


def test_bidirectional_lstm_imdb():
    max_features, maxlen = 200, 40              # the example: 20000 words, 200 tokens
    rng = np.random.default_rng(0)
    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(max_features, 16)(inputs)
    x = layers.Bidirectional(layers.LSTM(8, return_sequences=True))(x)
    x = layers.Bidirectional(layers.LSTM(8))(x)
    outputs = layers.Dense(1, activation="sigmoid")(x)
    model = keras.Model(inputs, outputs)
    model.summary(print_fn=lambda line: None)

    reviews = [rng.integers(2, max_features, size=rng.integers(5, 60)) for _ in range(256)]
    labels = np.array([float(review[0] < max_features // 2) for review in reviews])
    x_train = keras.utils.pad_sequences(reviews[:192], maxlen=maxlen, truncating="post")
    x_val = keras.utils.pad_sequences(reviews[192:], maxlen=maxlen, truncating="post")
    y_train, y_val = labels[:192], labels[192:]
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="binary_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=32, epochs=12, validation_data=(x_val, y_val), verbose=0)
    assert history.history["accuracy"][-1] > 0.9


def test_addition_rnn_with_repeat_vector():
    chars = "0123456789+ "
    digits, maxlen = 2, 5
    table = {c: i for i, c in enumerate(chars)}

    def encode(text, rows):
        x = np.zeros((rows, len(chars)))
        for i, c in enumerate(text):
            x[i, table[c]] = 1
        return x

    rng = np.random.default_rng(1)
    pairs = rng.integers(0, 10 ** digits, size=(1200, 2))
    questions = [f"{a}+{b}".ljust(maxlen) for a, b in pairs]
    answers = [str(a + b).ljust(digits + 1) for a, b in pairs]
    x = np.array([encode(q, maxlen) for q in questions])
    y = np.array([encode(a, digits + 1) for a in answers])

    model = keras.Sequential()
    model.add(layers.Input((maxlen, len(chars))))
    model.add(layers.LSTM(64))
    model.add(layers.RepeatVector(digits + 1))
    model.add(layers.LSTM(64, return_sequences=True))
    model.add(layers.Dense(len(chars), activation="softmax"))
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    history = model.fit(x[:1000], y[:1000], batch_size=32, epochs=8, validation_data=(x[1000:], y[1000:]),
                        verbose=0)
    assert history.history["val_accuracy"][-1] > history.history["val_accuracy"][0]
    assert model.predict(x[:3], verbose=0).shape == (3, digits + 1, len(chars))


def test_lstm_seq2seq_with_return_state_and_initial_state():
    num_encoder_tokens, num_decoder_tokens, latent_dim = 6, 5, 16
    rng = np.random.default_rng(2)
    samples, enc_steps, dec_steps = 96, 7, 5
    source = rng.integers(0, num_encoder_tokens, size=(samples, enc_steps))
    target = source[:, :dec_steps] % num_decoder_tokens               # copy the start, as a toy translation
    encoder_input_data = np.eye(num_encoder_tokens)[source]
    decoder_target_data = np.eye(num_decoder_tokens)[target]
    decoder_input_data = np.concatenate([np.zeros((samples, 1, num_decoder_tokens)),
                                         decoder_target_data[:, :-1]], axis=1)

    encoder_inputs = keras.Input(shape=(None, num_encoder_tokens))
    encoder = keras.layers.LSTM(latent_dim, return_state=True)
    encoder_outputs, state_h, state_c = encoder(encoder_inputs)
    encoder_states = [state_h, state_c]
    decoder_inputs = keras.Input(shape=(None, num_decoder_tokens))
    decoder_lstm = keras.layers.LSTM(latent_dim, return_sequences=True, return_state=True)
    decoder_outputs, _, _ = decoder_lstm(decoder_inputs, initial_state=encoder_states)
    decoder_dense = keras.layers.Dense(num_decoder_tokens, activation="softmax")
    decoder_outputs = decoder_dense(decoder_outputs)
    model = keras.Model([encoder_inputs, decoder_inputs], decoder_outputs)
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=0.01), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit([encoder_input_data, decoder_input_data], decoder_target_data, batch_size=32,
                        epochs=25, validation_split=0.2, verbose=0)
    assert history.history["accuracy"][-1] > 0.5                    # chance: 0.2

    # The example's inference models share the trained layers.
    encoder_model = keras.Model(encoder_inputs, encoder_states)
    decoder_state_input_h = keras.Input(shape=(latent_dim,))
    decoder_state_input_c = keras.Input(shape=(latent_dim,))
    decoder_states_inputs = [decoder_state_input_h, decoder_state_input_c]
    decoder_outputs, state_h_dec, state_c_dec = decoder_lstm(decoder_inputs, initial_state=decoder_states_inputs)
    decoder_states = [state_h_dec, state_c_dec]
    decoder_outputs = decoder_dense(decoder_outputs)
    decoder_model = keras.Model([decoder_inputs] + decoder_states_inputs, [decoder_outputs] + decoder_states)

    states_value = encoder_model.predict(encoder_input_data[:4], verbose=0)
    output_tokens, h, c = decoder_model.predict([decoder_input_data[:4, :1]] + states_value, verbose=0)
    teacher_forced = model.predict([encoder_input_data[:4], decoder_input_data[:4]], verbose=0)
    np.testing.assert_allclose(output_tokens[:, 0], teacher_forced[:, 0], rtol=1e-5, atol=1e-6)


def test_danq_style_conv_bilstm_classifier():
    rng = np.random.default_rng(3)
    steps, motif = 120, "TGACTCA"
    seqs = rng.integers(0, 4, size=(400, steps))
    labels = rng.integers(0, 2, size=(400, 3)).astype("float32")  # three chromatin features
    for row in np.nonzero(labels[:, 0])[0]:
        start = 50 + rng.integers(-4, 5)                               # near a site, as peaks are centred
        seqs[row, start:start + len(motif)] = ["ACGT".index(c) for c in motif]
    x = np.eye(4, dtype="float32")[seqs]
    labels[:, 1:] = 0.0                                              # the other features never occur

    model = keras.Sequential([
        layers.Input(shape=(steps, 4)),
        layers.Conv1D(filters=32, kernel_size=8, activation="relu"),
        layers.MaxPooling1D(pool_size=4, strides=4),
        layers.Dropout(0.2),
        layers.Bidirectional(layers.LSTM(16, return_sequences=True)),
        layers.Dropout(0.5),
        layers.Flatten(),
        layers.Dense(32, activation="relu"),
        layers.Dense(3, activation="sigmoid"),
    ])
    model.compile(loss="binary_crossentropy", optimizer=keras.optimizers.Adam(learning_rate=0.005),
                  metrics=["accuracy"])
    history = model.fit(x[:320], labels[:320], batch_size=32, epochs=12, validation_data=(x[320:], labels[320:]),
                        verbose=0)
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(labels[320:, 0], model.predict(x[320:], verbose=0)[:, 0]) > 0.85


def test_windowed_weather_forecaster_on_timeseries_dataset(tmp_path):
    rng = np.random.default_rng(4)
    hours = np.arange(3000)
    features = np.stack([np.sin(2 * np.pi * hours / 24), np.cos(2 * np.pi * hours / 24),
                         0.1 * rng.standard_normal(hours.size)], axis=1).astype("float32")
    temperature = features[:, 0] + 0.5 * features[:, 1]
    split, past, future, step, sequence_length = 2400, 48, 6, 2, 24
    x_train, y_train = features[:split], temperature[past + future:split + past + future]
    dataset_train = keras.preprocessing.timeseries_dataset_from_array(
        x_train, y_train, sequence_length=sequence_length, sampling_rate=step, batch_size=64)
    x_val = features[split:-(past + future)]
    y_val = temperature[split + past + future:]
    dataset_val = keras.preprocessing.timeseries_dataset_from_array(
        x_val, y_val, sequence_length=sequence_length, sampling_rate=step, batch_size=64)
    for batch in dataset_train:
        inputs, targets = batch
        break

    inputs = keras.layers.Input(shape=(inputs.shape[1], inputs.shape[2]))
    lstm_out = keras.layers.LSTM(16)(inputs)
    outputs = keras.layers.Dense(1)(lstm_out)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse")
    path_checkpoint = str(tmp_path / "model_checkpoint.weights.h5")
    es_callback = keras.callbacks.EarlyStopping(monitor="val_loss", min_delta=0, patience=5)
    modelckpt_callback = keras.callbacks.ModelCheckpoint(monitor="val_loss", filepath=path_checkpoint, verbose=0,
                                                         save_weights_only=True, save_best_only=True)
    history = model.fit(dataset_train, epochs=6, validation_data=dataset_val,
                        callbacks=[es_callback, modelckpt_callback], verbose=0)
    assert min(history.history["val_loss"]) < 0.05
    model.load_weights(path_checkpoint)          # Keras's weights format, written by the checkpoint
    assert model.evaluate(dataset_val, verbose=0) == min(history.history["val_loss"])
