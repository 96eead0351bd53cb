#!/usr/bin/env bash
# The ml.* components against scikit-learn (Debian's python3-sklearn) on
# the data sets it ships: pipec's own split is handed to scikit-learn so
# both learn from and are judged on the same rows.
#   linear regression coefficients   within 1e-6 relative
#   logistic accuracy and ROC AUC    within 0.01
#   k-means inertia                  within 2 %
#   metrics                          equal to sklearn.metrics to 1e-9
. "$(dirname "$0")/lib.bash"

PY=/usr/bin/python3
DATA=/usr/lib/python3/dist-packages/sklearn/datasets/data
if ! $PY -c 'import sklearn' 2>/dev/null; then
  fail "python3-sklearn is not installed (.ci/install-deps --test installs it)"
  finish
fi

mkdir proj && cd proj
cp "$DATA/iris.csv" iris.csv
cp "$SRC/examples/cancer/data/breast_cancer.csv" cancer.csv
cat > ml.pipe <<'PIPE'
pipeline ml {
  component sklearn_table() -> (out: table) {
    param source  : path
    param columns : string
    command = "awk -v h={columns} 'NR == 1 { print h; next } { print }' {source} > {out}"
  }
  node iris  = sklearn_table(source = "iris.csv", columns = "sl,sw,pl,pw,species")
  node lin   = ml.linear_regression(train = iris.out, label = "pw", features = ["sl", "sw", "pl"])
  node linm  = ml.metrics(model = lin.model, input = iris.out, label = "pw")
  node km    = ml.kmeans(input = iris.out, k = 3, features = ["sl", "sw", "pl", "pw"], seed = 1)
  node kmm   = ml.metrics(model = km.model, input = iris.out)

  node cancer = sklearn_table(source = "cancer.csv", columns = "f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,f11,f12,f13,f14,f15,f16,f17,f18,f19,f20,f21,f22,f23,f24,f25,f26,f27,f28,f29,y")
  node parts  = table.split(input = cancer.out, ratio = 0.7, seed = 3)
  node logit  = ml.logistic_regression(train = parts.train, label = "y", features = ["f0", "f1", "f4", "f6", "f7", "f20", "f21", "f27"], l2 = 1.0, max_iter = 200)
  node scored = ml.predict(model = logit.model, input = parts.test)
  node logm   = ml.metrics(model = logit.model, input = parts.test, label = "y")
}
PIPE
expect_exit 0 "$PIPEC" run ml.pipe -q || { finish; }
"$PIPEC" cat iris > iris.table.csv
"$PIPEC" cat lin > lin.model
"$PIPEC" cat linm > linm.json
"$PIPEC" cat km.model > km.model
"$PIPEC" cat kmm > kmm.json
"$PIPEC" cat parts.train > train.csv
"$PIPEC" cat parts.test > test.csv
"$PIPEC" cat scored > scored.csv
"$PIPEC" cat logm > logm.json

$PY - <<'PY' && pass "linear regression matches sklearn (1e-6 relative) and its metrics" || fail "linear regression"
import csv, json, numpy as np
from sklearn.linear_model import LinearRegression
from sklearn import metrics
rows = list(csv.DictReader(open("iris.table.csv")))
X = np.array([[float(r[c]) for c in ("sl", "sw", "pl")] for r in rows]); y = np.array([float(r["pw"]) for r in rows])
ref = LinearRegression().fit(X, y)
model = {}
coef = {}
for line in open("lin.model"):
    k, _, v = line.strip().partition(" ")
    if k == "feature":
        name, val = v.rsplit(" ", 1); coef[name] = float(val)
    elif k == "intercept":
        model["intercept"] = float(v)
for name, c in zip(("sl", "sw", "pl"), ref.coef_):
    assert abs(coef[name] - c) <= 1e-6 * abs(c), (name, coef[name], c)
assert abs(model["intercept"] - ref.intercept_) <= 1e-6 * abs(ref.intercept_)
m = json.load(open("linm.json")); pred = ref.predict(X)
assert abs(m["rmse"] - metrics.mean_squared_error(y, pred) ** 0.5) < 1e-9
assert abs(m["mae"] - metrics.mean_absolute_error(y, pred)) < 1e-9
assert abs(m["r2"] - metrics.r2_score(y, pred)) < 1e-9
PY

$PY - <<'PY' && pass "logistic regression within 0.01 of sklearn (accuracy, AUC)" || fail "logistic regression"
import csv, json, numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn import metrics
feats = ["f0", "f1", "f4", "f6", "f7", "f20", "f21", "f27"]
def load(p):
    rows = list(csv.DictReader(open(p)))
    return np.array([[float(r[c]) for c in feats] for r in rows]), np.array([int(r["y"]) for r in rows])
Xtr, ytr = load("train.csv"); Xte, yte = load("test.csv")
ref = LogisticRegression(C=1.0, max_iter=10000).fit(Xtr, ytr)
acc = metrics.accuracy_score(yte, ref.predict(Xte)); auc = metrics.roc_auc_score(yte, ref.predict_proba(Xte)[:, 1])
m = json.load(open("logm.json"))
assert abs(m["accuracy"] - acc) <= 0.01, (m["accuracy"], acc)
assert abs(m["roc_auc"] - auc) <= 0.01, (m["roc_auc"], auc)
print("pipec accuracy %.4f auc %.4f; sklearn accuracy %.4f auc %.4f" % (m["accuracy"], m["roc_auc"], acc, auc))
PY

$PY - <<'PY' && pass "metrics equal sklearn.metrics on pipec's predictions (1e-9)" || fail "metrics"
import csv, json
from sklearn import metrics
rows = list(csv.DictReader(open("scored.csv")))
y = [int(r["y"]) for r in rows]; p = [float(r["probability"]) for r in rows]; hat = [int(r["prediction"]) for r in rows]
m = json.load(open("logm.json"))
ref = {"accuracy": metrics.accuracy_score(y, hat), "precision": metrics.precision_score(y, hat),
       "recall": metrics.recall_score(y, hat), "f1": metrics.f1_score(y, hat),
       "roc_auc": metrics.roc_auc_score(y, p), "log_loss": metrics.log_loss(y, p)}
for k, v in ref.items():
    assert abs(m[k] - v) <= 1e-9, (k, m[k], v)
PY

$PY - <<'PY' && pass "k-means inertia within 2% of sklearn" || fail "k-means"
import csv, json, numpy as np
from sklearn.cluster import KMeans
rows = list(csv.DictReader(open("iris.table.csv")))
X = np.array([[float(r[c]) for c in ("sl", "sw", "pl", "pw")] for r in rows])
ref = KMeans(n_clusters=3, n_init=10, random_state=0).fit(X)
m = json.load(open("kmm.json"))
assert abs(m["inertia"] - ref.inertia_) <= 0.02 * ref.inertia_, (m["inertia"], ref.inertia_)
print("pipec inertia %.4f, sklearn %.4f" % (m["inertia"], ref.inertia_))
PY
finish
