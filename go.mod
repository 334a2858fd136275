module github.com/tailgate-ci/tailgate

go 1.26.8

require (
	github.com/spf13/pflag v1.1.0
	github.com/yalue/onnxruntime_go v1.27.0
)

require github.com/HdrHistogram/hdrhistogram-go v1.4.0 // indirect
