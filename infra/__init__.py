"""The CDK app: one validated config, one construct per concern, a stack that only wires them."""
