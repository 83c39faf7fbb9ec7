from components.common.registry import main

main("comax")
