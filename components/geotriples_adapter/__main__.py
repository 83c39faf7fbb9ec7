from components.common.registry import main

main("geotriples")
