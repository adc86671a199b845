from atlascan.engines.terraform.codecheck import CodeCheck

CHECKS: tuple[CodeCheck, ...] = ()
