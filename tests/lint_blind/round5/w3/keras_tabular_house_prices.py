#!/usr/bin/env python
# coding: utf-8

# # House Prices - Keras MLP on engineered features
# Kaggle notebook export (TF 2.x).

# In[1]:


import numpy as np
import pandas as pd
import tensorflow as tf
from sklearn.model_selection import KFold
from sklearn.preprocessing import StandardScaler
from tensorflow import keras
from tensorflow.keras import layers

SEED = 42
tf.random.set_seed(SEED)
np.random.seed(SEED)

train = pd.read_csv('../input/house-prices-advanced-regression-techniques/train.csv')
test = pd.read_csv('../input/house-prices-advanced-regression-techniques/test.csv')


# In[2]:


y = np.log1p(train.pop('SalePrice').values)
full = pd.concat([train, test], axis=0, ignore_index=True).drop(columns=['Id'])
full['TotalSF'] = full['TotalBsmtSF'].fillna(0) + full['1stFlrSF'] + full['2ndFlrSF']
full['Age'] = full['YrSold'] - full['YearBuilt']
num_cols = full.select_dtypes(exclude='object').columns
full[num_cols] = full[num_cols].fillna(full[num_cols].median())
full = pd.get_dummies(full, dummy_na=True)
X = StandardScaler().fit_transform(full.values).astype('float32')
X_train, X_test = X[:len(train)], X[len(train):]
print(X_train.shape, X_test.shape)


# In[3]:


def build_model(n_features, width=512, drop=0.3):
    inp = keras.Input(shape=(n_features,))
    x = layers.Dense(width, activation='relu')(inp)
    x = layers.BatchNormalization()(x)
    x = layers.Dropout(drop)(x, training=True)  # expect: MG502
    x = layers.Dense(width // 2, activation='relu')(x)
    x = layers.BatchNormalization()(x)
    x = layers.Dropout(drop)(x)
    out = layers.Dense(1)(x)
    model = keras.Model(inp, out)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss='mse',
                  metrics=[keras.metrics.RootMeanSquaredError()])
    return model


# In[4]:


kf = KFold(n_splits=5, shuffle=True, random_state=SEED)
oof = np.zeros(len(X_train))
test_pred = np.zeros(len(X_test))
for fold, (tr, va) in enumerate(kf.split(X_train)):
    model = build_model(X_train.shape[1])
    cbs = [keras.callbacks.EarlyStopping(patience=20, restore_best_weights=True),
           keras.callbacks.ReduceLROnPlateau(factor=0.5, patience=8)]
    model.fit(X_train[tr], y[tr], validation_data=(X_train[va], y[va]),
              epochs=300, batch_size=64, callbacks=cbs, verbose=0)
    oof[va] = model.predict(X_train[va], batch_size=256).ravel()
    test_pred += model.predict(X_test, batch_size=256).ravel() / kf.n_splits
    rmse = np.sqrt(np.mean((oof[va] - y[va]) ** 2))
    print(f'fold {fold}: rmse {rmse:.5f}')

print('CV rmse:', np.sqrt(np.mean((oof - y) ** 2)))


# In[5]:


sub = pd.DataFrame({'Id': test['Id'], 'SalePrice': np.expm1(test_pred)})
sub.to_csv('submission.csv', index=False)
sub.head()
