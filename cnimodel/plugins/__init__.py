"""Plugin models, one module per plugin family; registered in the ``cnimodel.plugins`` entry-point group."""
