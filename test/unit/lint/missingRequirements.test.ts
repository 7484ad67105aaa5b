import { describe, expect, it } from 'vitest';
import { missingRequirements } from '../../../src/core/lint/rules/missingRequirements';
import { flagged, lintNotebook, lintScript, where } from './lintHelpers';

function declared(...names: string[]) {
  return { files: ['requirements.txt'], names: new Set(names) };
}

const installed = { pandas: '2.2.2', 'scikit-learn': '1.5.0', xgboost: '2.0.3', 'opencv-python-headless': '4.10.0.84' };

describe('missing-requirements', () => {
  it('reports each undeclared third-party import once, at the module name', () => {
    const result = lintNotebook(
      [missingRequirements],
      ['import os\nimport pandas as pd\nimport xgboost as xgb', 'from sklearn.model_selection import train_test_split\nfrom sklearn.metrics import accuracy_score', 'import xgboost'],
      { project: { requirements: declared('pandas'), installed } },
    );
    expect(where(result)).toEqual(['0:2:7 missing-requirements', '1:0:5 missing-requirements']);
    expect(result.findings.map((f) => flagged(result, f))).toEqual(['xgboost', 'sklearn.model_selection']);
    expect(result.findings[0]!.message).toBe('`xgboost` is imported but not declared in requirements.txt: add `xgboost==2.0.3`');
    expect(result.findings[1]!.message).toBe('`sklearn` (scikit-learn) is imported but not declared in requirements.txt: add `scikit-learn==1.5.0`');
    expect(result.findings[0]!.severity).toBe('warning');
  });

  it('suggests an exact version even when the installed one is unknown', () => {
    const result = lintNotebook([missingRequirements], ['import lightgbm'], { project: { requirements: declared('pandas') } });
    expect(result.findings[0]!.message).toBe('`lightgbm` is imported but not declared in requirements.txt: add `lightgbm` with an exact version (`lightgbm==<version>`)');
  });

  it('names the declaring files and suggests the installed variant of a package', () => {
    const result = lintNotebook([missingRequirements], ['import cv2'], {
      project: { requirements: { files: ['requirements.txt', 'pyproject.toml'], names: new Set(['numpy']) }, installed },
    });
    expect(result.findings[0]!.message).toBe('`cv2` (opencv-python-headless) is imported but not declared in requirements.txt or pyproject.toml: add `opencv-python-headless==4.10.0.84`');
  });

  it('reports once, on the first third-party import, when the project has no requirements file', () => {
    const result = lintNotebook([missingRequirements], ['import json\nimport numpy as np', 'import pandas as pd\nfrom sklearn import svm\nimport numpy'], { project: { installed } });
    expect(where(result)).toEqual(['0:1:7 missing-requirements']);
    expect(flagged(result, result.findings[0]!)).toBe('numpy');
    expect(result.findings[0]!.message).toBe(
      "No requirements.txt, pyproject.toml or lock file declares this project's packages: add one listing numpy, pandas, scikit-learn (`pip freeze > requirements.txt` pins what is installed)",
    );
  });

  it('maps import names to distributions and accepts their alternatives', () => {
    const cells = [
      'import cv2\nimport PIL.Image\nimport yaml\nfrom bs4 import BeautifulSoup\nimport psycopg2\nimport sklearn\nimport skimage',
      'from dateutil import parser\nimport dotenv\nimport mpl_toolkits.mplot3d\nimport matplotlib.pyplot as plt\nfrom IPython.display import display\nimport torch\nimport keras',
      'from google.cloud import storage\nimport google.cloud.bigquery\nfrom azure.storage.blob import BlobClient\nimport huggingface_hub\nimport serial\nimport magic',
    ];
    const names = declared(
      'opencv-contrib-python', 'pillow', 'pyyaml', 'beautifulsoup4', 'psycopg2-binary', 'scikit-learn', 'scikit-image', 'python-dateutil', 'python-dotenv',
      'matplotlib', 'jupyter', 'pytorch', 'tensorflow', 'google-cloud-storage', 'google-cloud-bigquery', 'azure-storage-blob', 'huggingface-hub', 'pyserial', 'python-magic',
    );
    expect(where(lintNotebook([missingRequirements], cells, { project: { requirements: names } }))).toEqual([]);
    // The same imports with nothing declared: one finding per distribution.
    expect(lintNotebook([missingRequirements], cells, { project: { requirements: declared() } }).findings).toHaveLength(20);
  });

  it('keys namespace packages on the distribution, not the namespace', () => {
    const result = lintNotebook(
      [missingRequirements],
      ['from google.cloud import storage\nfrom google.cloud import bigquery\nimport google.protobuf', 'from azure.identity import DefaultAzureCredential\nfrom azure.storage.blob import BlobClient\nimport azure.core.exceptions'],
      { project: { requirements: declared('google-cloud-storage') } },
    );
    expect(result.findings.map((f) => f.message.split(':')[0])).toEqual([
      '`google.cloud.bigquery` (google-cloud-bigquery) is imported but not declared in requirements.txt',
      '`google.protobuf` (protobuf) is imported but not declared in requirements.txt',
      '`azure.identity` (azure-identity) is imported but not declared in requirements.txt',
      '`azure.storage.blob` (azure-storage-blob) is imported but not declared in requirements.txt',
      '`azure.core` (azure-core) is imported but not declared in requirements.txt',
    ]);
    expect(result.findings.map((f) => flagged(result, f))).toEqual(['google.cloud', 'google.protobuf', 'azure.identity', 'azure.storage.blob', 'azure.core.exceptions']);
  });

  it('does not report the standard library, relative imports, local modules, nb2prod or environment modules', () => {
    const result = lintNotebook(
      [missingRequirements],
      [
        'from __future__ import annotations\nimport os, sys, json, tomllib, zoneinfo\nfrom collections import Counter\nimport distutils.util\nimport winreg',
        'from . import helpers\nfrom .utils import load\nimport utils\nfrom features.build import make_features',
        'import nb2prod\nfrom nb2prod.capture import log_metric\nfrom google.colab import drive\nimport kaggle_secrets',
        'import google',
      ],
      { project: { requirements: declared(), localModules: ['utils', 'features'] } },
    );
    expect(where(result)).toEqual([]);
    // Without the project's modules known, `utils` and `features` would be packages.
    const unknown = lintNotebook([missingRequirements], ['import utils\nfrom features.build import make_features'], { project: { requirements: declared() } });
    expect(unknown.findings.map((f) => flagged(unknown, f))).toEqual(['utils', 'features.build']);
  });

  it('finds imports in functions and scripts too, and accepts declared names in any spelling', () => {
    const result = lintScript(
      [missingRequirements],
      'import typing_extensions\nimport Levenshtein\n\ndef load():\n    import pyarrow.parquet as pq\n    return pq\n',
      { project: { requirements: declared('typing-extensions', 'python-levenshtein') } },
    );
    expect(result.findings.map((f) => flagged(result, f))).toEqual(['pyarrow.parquet']);
    expect(result.findings[0]!.message).toContain('`pyarrow` is imported but not declared');
  });

  it('takes modules the notebook writes itself for its own: %%file, %%writefile, open(..., "w")', () => {
    const result = lintNotebook(
      [missingRequirements],
      [
        '%%file mprun_demo.py\ndef sum_of_lists(n):\n    return n',
        '%%writefile movieclassifier/vectorizer.py\nfrom sklearn.feature_extraction.text import HashingVectorizer',
        '%%writefile -a pkg/__init__.py\nVALUE = 1',
        'with open("helpers_gen.py", "w") as f:\n    f.write("X = 1")',
        'from mprun_demo import sum_of_lists\nfrom vectorizer import vect\nimport pkg\nimport helpers_gen\nimport lightgbm',
      ],
      { project: { requirements: declared() } },
    );
    expect(result.findings.map((f) => flagged(result, f))).toEqual(['lightgbm']);
  });

  it('takes protoc output for the notebook\'s own when it writes the .proto or runs protoc, and says what an ungenerated one is', () => {
    const generated = lintNotebook(
      [missingRequirements],
      ['%%writefile person.proto\nsyntax = "proto3";', '!protoc person.proto --python_out=. --descriptor_set_out=person.desc', 'from person_pb2 import Person\nimport person_pb2_grpc'],
      { project: { requirements: declared('protobuf') } },
    );
    expect(where(generated)).toEqual([]);
    const viaModule = lintNotebook([missingRequirements], ['!python -m grpc_tools.protoc -I. --python_out=. $PROTO', 'import service_pb2'], { project: { requirements: declared() } });
    expect(where(viaModule)).toEqual([]);
    const missing = lintNotebook([missingRequirements], ['from person_pb2 import Person'], { project: { requirements: declared() } });
    expect(missing.findings.map((f) => f.message)).toEqual([
      '`person_pb2` is code protoc generates from person.proto, and neither the project nor the notebook has it: commit the generated person_pb2.py, or generate it in the notebook (`!protoc --python_out=. person.proto`); it is not a package to install.',
    ]);
    // A package's own generated modules are the package's: tensorflow_serving is tensorflow-serving-api.
    const packaged = lintNotebook([missingRequirements], ['from tensorflow_serving.apis.predict_pb2 import PredictRequest'], { project: { requirements: declared('tensorflow-serving-api') } });
    expect(where(packaged)).toEqual([]);
  });

  it('stays quiet about Python 2 standard library modules, listing them nowhere', () => {
    const result = lintNotebook([missingRequirements], ['import urllib2\nimport cPickle as pickle\nfrom StringIO import StringIO\nimport ConfigParser, Queue, SocketServer\nimport numpy'], { project: {} });
    expect(result.findings.map((f) => f.message)).toEqual([
      "No requirements.txt, pyproject.toml or lock file declares this project's packages: add one listing numpy (`pip freeze > requirements.txt` pins what is installed)",
    ]);
  });

  it('names the distribution the interpreter says provides a module, before the usual spellings', () => {
    const result = lintNotebook([missingRequirements], ['import ignite\nimport somepkg'], {
      project: { requirements: declared(), providedBy: { somepkg: ['Some-Package'] }, installed: { 'Some-Package': '1.2.3' } },
    });
    expect(result.findings.map((f) => f.message.split(': ')[1])).toEqual(['add `pytorch-ignite` with an exact version (`pytorch-ignite==<version>`)', 'add `some-package==1.2.3`']);
    const declaredByProvider = lintNotebook([missingRequirements], ['import somepkg'], { project: { requirements: declared('some-package'), providedBy: { somepkg: ['Some-Package'] } } });
    expect(where(declaredByProvider)).toEqual([]);
  });

  it('reports nothing for a notebook with no third-party imports, requirements file or not', () => {
    expect(lintNotebook([missingRequirements], ['import os\nprint(os.getcwd())', '%pip install pandas==2.2.2']).findings).toEqual([]);
  });
});

describe('missing-requirements: optional imports', () => {
  it('does not report an import guarded by except ImportError, but does report an unguarded one', () => {
    const result = lintNotebook([missingRequirements], [
      'try:\n    import xgboost\nexcept ImportError:\n    xgboost = None',
      'try:\n    import lightgbm\nexcept (ValueError, ModuleNotFoundError):\n    pass',
      'try:\n    import catboost\nexcept ValueError:\n    pass',
    ], { project: { requirements: { files: ['requirements.txt'], names: new Set(['pandas']) } } });
    expect(result.findings.map((f) => flagged(result, f))).toEqual(['catboost']);
  });
});
