from components.common.launch import main

main("interlinking")
