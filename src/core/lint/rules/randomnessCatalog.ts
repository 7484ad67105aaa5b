/**
 * What the `unseeded-random` and `data-leakage` rules know about libraries: which functions draw
 * from a global random generator, which calls seed one, which scikit-learn objects take a
 * `random_state`, and which scikit-learn transformers learn from the data they are fit on.
 * Paths are the dotted paths `NotebookModel.resolve` gives.
 */

/** A global random generator a seed call can reset. */
export type RngFamily = 'random' | 'numpy' | 'torch' | 'tensorflow';

/** Python's `random` module: functions of its hidden global `Random` instance. */
export const STDLIB_RANDOM_FUNCTIONS: ReadonlySet<string> = new Set([
  'random', 'randint', 'randrange', 'choice', 'choices', 'shuffle', 'sample', 'uniform', 'gauss', 'normalvariate',
  'lognormvariate', 'expovariate', 'vonmisesvariate', 'gammavariate', 'betavariate', 'paretovariate', 'weibullvariate',
  'triangular', 'getrandbits', 'randbytes', 'binomialvariate',
]);

/** NumPy's legacy functions of the global `RandomState` (what `np.random.seed` seeds). */
export const NUMPY_LEGACY_FUNCTIONS: ReadonlySet<string> = new Set([
  'rand', 'randn', 'randint', 'random_integers', 'random', 'random_sample', 'ranf', 'sample', 'choice', 'bytes',
  'shuffle', 'permutation', 'beta', 'binomial', 'chisquare', 'dirichlet', 'exponential', 'f', 'gamma', 'geometric',
  'gumbel', 'hypergeometric', 'laplace', 'logistic', 'lognormal', 'logseries', 'multinomial', 'multivariate_normal',
  'negative_binomial', 'noncentral_chisquare', 'noncentral_f', 'normal', 'pareto', 'poisson', 'power', 'rayleigh',
  'standard_cauchy', 'standard_exponential', 'standard_gamma', 'standard_normal', 'standard_t', 'triangular', 'uniform',
  'vonmises', 'wald', 'weibull', 'zipf',
]);

/**
 * Constructors of independent generators: without a seed they start from OS entropy, whatever
 * global seed was set. `numpy.random.Generator` itself takes a bit generator, flagged instead.
 */
export const UNSEEDED_GENERATOR_CONSTRUCTORS: ReadonlySet<string> = new Set([
  'numpy.random.default_rng',
  'numpy.random.RandomState',
  'numpy.random.PCG64',
  'numpy.random.PCG64DXSM',
  'numpy.random.MT19937',
  'numpy.random.Philox',
  'numpy.random.SFC64',
  'numpy.random.SeedSequence',
  'random.Random',
]);

/** torch functions that draw from the global generator (unless given `generator=`). */
export const TORCH_RANDOM_FUNCTIONS: ReadonlySet<string> = new Set([
  'rand', 'randn', 'randint', 'randperm', 'normal', 'bernoulli', 'multinomial', 'poisson', 'rand_like', 'randn_like',
  'randint_like',
]);

/** `tf.random.*` ops that are nondeterministic without a global or an op-level seed. */
export const TF_RANDOM_FUNCTIONS: ReadonlySet<string> = new Set([
  'uniform', 'normal', 'truncated_normal', 'shuffle', 'categorical', 'gamma', 'poisson',
]);

/** TensorFlow 1 spellings at the top level (`tf.random_uniform`). */
export const TF1_RANDOM_FUNCTIONS: ReadonlySet<string> = new Set([
  'random_uniform', 'random_normal', 'truncated_normal', 'random_shuffle', 'multinomial', 'random_gamma', 'random_poisson',
]);

/** Calls that seed global generators, by path. */
export const SEEDERS: ReadonlyMap<string, readonly RngFamily[]> = new Map<string, readonly RngFamily[]>([
  ['random.seed', ['random']],
  ['numpy.random.seed', ['numpy']],
  ['torch.manual_seed', ['torch']],
  ['torch.random.manual_seed', ['torch']],
  ['tensorflow.random.set_seed', ['tensorflow']],
  ['tensorflow.set_random_seed', ['tensorflow']],
  ['tensorflow.compat.v1.set_random_seed', ['tensorflow']],
  ['tensorflow.compat.v1.random.set_random_seed', ['tensorflow']],
  // Keras' helper seeds Python, NumPy and TensorFlow at once.
  ['keras.utils.set_random_seed', ['random', 'numpy', 'tensorflow']],
  ['tensorflow.keras.utils.set_random_seed', ['random', 'numpy', 'tensorflow']],
  ['lightning.seed_everything', ['random', 'numpy', 'torch']],
  ['lightning.pytorch.seed_everything', ['random', 'numpy', 'torch']],
  ['lightning.fabric.seed_everything', ['random', 'numpy', 'torch']],
  ['pytorch_lightning.seed_everything', ['random', 'numpy', 'torch']],
  ['pytorch_lightning.utilities.seed.seed_everything', ['random', 'numpy', 'torch']],
  ['lightning_fabric.utilities.seed.seed_everything', ['random', 'numpy', 'torch']],
  ['transformers.set_seed', ['random', 'numpy', 'torch', 'tensorflow']],
  ['accelerate.utils.set_seed', ['random', 'numpy', 'torch']],
]);

/**
 * When a scikit-learn callable with a `random_state` is actually random (checked against
 * scikit-learn's source; docs/rules/unseeded-random.md lists the conditions):
 * - `always`: it always uses its random state;
 * - `shuffle`: only with `shuffle=True` (KFold and friends);
 * - `unless-no-shuffle`: unless `shuffle=False` (train_test_split);
 * - `solver`: LogisticRegression with solver sag, saga or liblinear;
 * - `ridge-solver`: Ridge with solver sag or saga;
 * - `probability`: SVC/NuSVC with probability=True;
 * - `svd-solver`: PCA with svd_solver 'randomized' or 'arpack'. With the default 'auto',
 *   scikit-learn picks randomized SVD from the data's shape (larger than 500×500, an int
 *   n_components under 80% of the smaller side, and since 1.5 not when there are fewer than 1000
 *   features and ten times as many samples): the shape is not known statically, so only the run
 *   tracker, which sees the fitted solver, reports it. A float n_components or 'mle' always
 *   means a full SVD;
 * - `init-array`: KMeans, unless `init` is an array of starting centres (then there is nothing
 *   to draw, whatever n_init);
 * - `selection`: Lasso/ElasticNet and their multi-task and CV variants with selection='random';
 * - `dual`: LinearSVC/LinearSVR with dual=True (liblinear shuffles the dual coordinate descent;
 *   the default became 'auto', which chooses from the data's shape since scikit-learn 1.5).
 *
 * The Python capture applies the same table at run time (`_RANDOM_WHEN` in
 * src/core/capture/python/nb2prod/_patches.py; a test keeps the two equal).
 */
export type RandomStateCondition =
  | 'always'
  | 'shuffle'
  | 'unless-no-shuffle'
  | 'solver'
  | 'ridge-solver'
  | 'probability'
  | 'svd-solver'
  | 'init-array'
  | 'selection'
  | 'dual';

export const SKLEARN_RANDOM_STATE: ReadonlyMap<string, RandomStateCondition> = new Map<string, RandomStateCondition>([
  ['train_test_split', 'unless-no-shuffle'],
  ['ShuffleSplit', 'always'],
  ['StratifiedShuffleSplit', 'always'],
  ['GroupShuffleSplit', 'always'],
  ['KFold', 'shuffle'],
  ['StratifiedKFold', 'shuffle'],
  ['StratifiedGroupKFold', 'shuffle'],
  ['RepeatedKFold', 'always'],
  ['RepeatedStratifiedKFold', 'always'],
  ['RandomForestClassifier', 'always'],
  ['RandomForestRegressor', 'always'],
  ['ExtraTreesClassifier', 'always'],
  ['ExtraTreesRegressor', 'always'],
  ['RandomTreesEmbedding', 'always'],
  ['GradientBoostingClassifier', 'always'],
  ['GradientBoostingRegressor', 'always'],
  ['HistGradientBoostingClassifier', 'always'],
  ['HistGradientBoostingRegressor', 'always'],
  ['DecisionTreeClassifier', 'always'],
  ['DecisionTreeRegressor', 'always'],
  ['ExtraTreeClassifier', 'always'],
  ['ExtraTreeRegressor', 'always'],
  ['BaggingClassifier', 'always'],
  ['BaggingRegressor', 'always'],
  ['AdaBoostClassifier', 'always'],
  ['AdaBoostRegressor', 'always'],
  ['IsolationForest', 'always'],
  ['RANSACRegressor', 'always'],
  ['GaussianRandomProjection', 'always'],
  ['SparseRandomProjection', 'always'],
  ['RBFSampler', 'always'],
  ['Nystroem', 'always'],
  ['SkewedChi2Sampler', 'always'],
  ['SGDClassifier', 'always'],
  ['SGDRegressor', 'always'],
  ['SGDOneClassSVM', 'always'],
  ['Perceptron', 'always'],
  ['PassiveAggressiveClassifier', 'always'],
  ['PassiveAggressiveRegressor', 'always'],
  ['MLPClassifier', 'always'],
  ['MLPRegressor', 'always'],
  ['BernoulliRBM', 'always'],
  ['KMeans', 'init-array'],
  ['MiniBatchKMeans', 'always'],
  ['BisectingKMeans', 'always'],
  ['SpectralClustering', 'always'],
  ['GaussianMixture', 'always'],
  ['BayesianGaussianMixture', 'always'],
  ['TSNE', 'always'],
  ['MDS', 'always'],
  ['TruncatedSVD', 'always'],
  ['LatentDirichletAllocation', 'always'],
  ['FastICA', 'always'],
  ['RandomizedSearchCV', 'always'],
  ['HalvingRandomSearchCV', 'always'],
  ['permutation_importance', 'always'],
  ['mutual_info_classif', 'always'],
  ['mutual_info_regression', 'always'],
  ['make_classification', 'always'],
  ['make_regression', 'always'],
  ['make_blobs', 'always'],
  ['make_moons', 'always'],
  ['make_circles', 'always'],
  ['make_multilabel_classification', 'always'],
  ['make_friedman1', 'always'],
  ['make_friedman2', 'always'],
  ['make_friedman3', 'always'],
  ['make_s_curve', 'always'],
  ['make_swiss_roll', 'always'],
  ['make_gaussian_quantiles', 'always'],
  ['make_hastie_10_2', 'always'],
  ['make_sparse_spd_matrix', 'always'],
  ['shuffle', 'always'],
  ['resample', 'always'],
  ['LogisticRegression', 'solver'],
  ['LogisticRegressionCV', 'solver'],
  ['Ridge', 'ridge-solver'],
  ['RidgeClassifier', 'ridge-solver'],
  ['Lasso', 'selection'],
  ['ElasticNet', 'selection'],
  ['LassoCV', 'selection'],
  ['ElasticNetCV', 'selection'],
  ['MultiTaskLasso', 'selection'],
  ['MultiTaskElasticNet', 'selection'],
  ['MultiTaskLassoCV', 'selection'],
  ['MultiTaskElasticNetCV', 'selection'],
  ['LinearSVC', 'dual'],
  ['LinearSVR', 'dual'],
  ['SVC', 'probability'],
  ['NuSVC', 'probability'],
  ['PCA', 'svd-solver'],
]);

/** `sklearn.utils.shuffle`/`resample` only: other modules' `shuffle` are not these. */
export const SKLEARN_UTILS_ONLY: ReadonlySet<string> = new Set(['shuffle', 'resample']);

/**
 * scikit-learn transformers whose fit learns statistics of the data (means, quantiles,
 * vocabularies, selected features): fit on rows of the test set, they leak it. Stateless ones
 * (Normalizer, Binarizer, FunctionTransformer, PolynomialFeatures, HashingVectorizer) are not here.
 * Keyed by name, with the sklearn subpackage it must come from.
 */
export const STATEFUL_PREPROCESSORS: ReadonlyMap<string, string> = new Map([
  ['StandardScaler', 'preprocessing'],
  ['MinMaxScaler', 'preprocessing'],
  ['MaxAbsScaler', 'preprocessing'],
  ['RobustScaler', 'preprocessing'],
  ['QuantileTransformer', 'preprocessing'],
  ['PowerTransformer', 'preprocessing'],
  ['KBinsDiscretizer', 'preprocessing'],
  ['OneHotEncoder', 'preprocessing'],
  ['OrdinalEncoder', 'preprocessing'],
  ['TargetEncoder', 'preprocessing'],
  ['SplineTransformer', 'preprocessing'],
  ['SimpleImputer', 'impute'],
  ['KNNImputer', 'impute'],
  ['IterativeImputer', 'impute'],
  ['MissingIndicator', 'impute'],
  ['PCA', 'decomposition'],
  ['IncrementalPCA', 'decomposition'],
  ['KernelPCA', 'decomposition'],
  ['TruncatedSVD', 'decomposition'],
  ['FastICA', 'decomposition'],
  ['NMF', 'decomposition'],
  ['SelectKBest', 'feature_selection'],
  ['SelectPercentile', 'feature_selection'],
  ['SelectFpr', 'feature_selection'],
  ['SelectFdr', 'feature_selection'],
  ['SelectFwe', 'feature_selection'],
  ['GenericUnivariateSelect', 'feature_selection'],
  ['RFE', 'feature_selection'],
  ['RFECV', 'feature_selection'],
  ['VarianceThreshold', 'feature_selection'],
  ['SelectFromModel', 'feature_selection'],
  ['SequentialFeatureSelector', 'feature_selection'],
  ['TfidfVectorizer', 'feature_extraction'],
  ['CountVectorizer', 'feature_extraction'],
  ['TfidfTransformer', 'feature_extraction'],
]);
