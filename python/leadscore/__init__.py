"""leadscore: SQL-native lead scoring inside the warehouse.

Features are dbt models in DuckDB; ``leadscore.training`` trains LightGBM on them, calibrates
it and exports ONNX behind a parity gate; ``leadscore.dbt_plugin`` scores leads inside DuckDB.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
