"""Build glue pyproject.toml cannot express: the top-level resources/ folder ships inside the package as app/resources.

Everything else about the build lives in pyproject.toml. A source checkout keeps using resources/ in place.
"""

from setuptools import find_namespace_packages, setup

setup(
    packages=[*find_namespace_packages(include=["app", "app.*"], exclude=["*.__pycache__"]), "app.resources"],
    package_dir={"app.resources": "resources"},
)
